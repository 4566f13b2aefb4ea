using System.Globalization;
using System.Text;

namespace Serverless.Tests.Serving;

/// <summary>
/// A small synthetic table with a column of every role serving must handle: a numeric (<c>distance</c>, a few "NA"), a
/// boolean (<c>member</c>, yes/no), a categorical (<c>city</c>, a few empty) feature; an excluded text (<c>note</c>) and
/// date (<c>day</c>, which would otherwise be a feature: see <c>DateFeatureTests</c>), a sensitive (<c>email</c>) column; and three labels, one per task: <c>spend</c> (regression),
/// <c>churn</c> (binary: stay/leave) and <c>tier</c> (multiclass: bronze/silver/gold). Seeded, so every run sees the same rows.
/// </summary>
public static class ShopData
{
    public const string Spend = "shop-spend";
    public const string Churn = "shop-churn";
    public const string Tier = "shop-tier";
    public const string ChurnBlend = "shop-churn-blend";

    private const string Trainer = """[{"name":"FastTree","grid":{"numberOfLeaves":[8],"numberOfIterations":[40]}}]""";

    /// <summary>The spec of each model: its label and task, the other labels, the note and the day excluded, the email sensitive.</summary>
    public static readonly IReadOnlyDictionary<string, string> Specs = new Dictionary<string, string>
    {
        [Spend] = $$"""{"label":"spend","task":"regression","exclude":["note","day","churn","tier"],"sensitive":["email"],"trainers":{{Trainer}}}""",
        [Churn] = $$"""{"label":"churn","task":"binary","exclude":["note","day","spend","tier"],"sensitive":["email"],"trainers":{{Trainer}}}""",
        [Tier] = $$"""{"label":"tier","task":"multiclass","exclude":["note","day","spend","churn"],"sensitive":["email"],"trainers":{{Trainer}}}""",
        [ChurnBlend] = """{"label":"churn","task":"binary","exclude":["note","day","spend","tier"],"sensitive":["email"],"trainers":[{"name":"Blend"}]}""",
    };

    public static readonly string[] Cities = ["north", "south", "east", "west"];

    /// <summary>A valid row for every model: all features and the ignored columns present.</summary>
    public const string Row = """{"distance":7.5,"member":true,"city":"east","note":"asked about delivery","email":"ann@example.com","day":"2024-01-09"}""";

    public static string Csv(int rows)
    {
        var random = new Random(7);
        var text = new StringBuilder("distance,member,city,note,email,day,spend,churn,tier\n");
        for (var i = 0; i < rows; i++)
        {
            var distance = Math.Round(0.5 + random.NextDouble() * 19.5, 2);
            var member = random.Next(2) == 0;
            var city = Cities[random.Next(Cities.Length)];
            var spend = 5 + 3 * distance + (member ? 12 : 0) + Array.IndexOf(Cities, city) * 4 + random.NextDouble() * 3;
            var leave = !member && city is "east" or "west";
            if (random.NextDouble() < 0.05) leave = !leave;
            var tier = spend < 35 ? "bronze" : spend < 60 ? "silver" : "gold";
            var distanceCell = random.NextDouble() < 0.03 ? "NA" : distance.ToString(CultureInfo.InvariantCulture);
            var cityCell = random.NextDouble() < 0.03 ? "" : city;
            text.Append(CultureInfo.InvariantCulture,
                $"{distanceCell},{(member ? "yes" : "no")},{cityCell},customer {i} wrote a note,user{i}@example.com,2024-01-{1 + i % 28:D2},{Math.Round(spend, 2)},{(leave ? "leave" : "stay")},{tier}\n");
        }
        return text.ToString();
    }
}
