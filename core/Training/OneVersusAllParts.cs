using System.Reflection;
using Microsoft.ML.Trainers;

namespace Serverless.Core.Training;

/// <summary>How a one-versus-all model (LightGbm's and the OVA trainer's multiclass models) turns its classes' scores into its score vector.</summary>
internal enum ClassFormula
{
    /// <summary>Each class's raw score as it is.</summary>
    Raw,

    /// <summary>Each class's calibrated probability; negatives set to 0, then all divided by their sum when it is above 0.</summary>
    ProbabilityNormalization,

    /// <summary>The softmax of the classes' raw scores.</summary>
    Softmax,
}

/// <summary>
/// The parts of a one-versus-all model that ML.NET 5.0 keeps internal: the per-class predictors (an internal property)
/// and the output formula (a field of its internal implementation), read here by name. Null where a later ML.NET moves
/// them; what reads them then does without (the cost is unknown, the model is not compiled).
/// </summary>
internal static class OneVersusAllParts
{
    private const BindingFlags Members = BindingFlags.Instance | BindingFlags.NonPublic | BindingFlags.Public;

    /// <summary>The per-class predictors, in the order of the score vector.</summary>
    public static IReadOnlyList<object>? SubModels(OneVersusAllModelParameters model) =>
        (typeof(OneVersusAllModelParameters).GetProperty("SubModelParameters", Members)?.GetValue(model) as IEnumerable<object>)?.ToList();

    /// <summary>The output formula of the model's implementation.</summary>
    public static ClassFormula? Formula(OneVersusAllModelParameters model)
    {
        var impl = typeof(OneVersusAllModelParameters).GetField("_impl", Members)?.GetValue(model);
        var formula = impl?.GetType().GetField("OutputFormula", Members)?.GetValue(impl);
        return Enum.TryParse<ClassFormula>(formula?.ToString(), out var known) ? known : null;
    }
}
