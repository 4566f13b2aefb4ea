using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Serverless.Core.Storage;

/// <summary>Parts of blob names made from data: a short hash of a text, and a UTC time stamp that sorts as it reads.</summary>
public static class NameParts
{
    /// <summary>The first 8 hex digits of the SHA-256 of <paramref name="text"/> (UTF-8): stable, and safe in a blob name whatever the text holds.</summary>
    public static string ShortHash(string text) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..8];

    /// <summary>A UTC time to the second as <c>yyyyMMddTHHmmssZ</c>.</summary>
    public static string Stamp(DateTimeOffset time) => time.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
}
