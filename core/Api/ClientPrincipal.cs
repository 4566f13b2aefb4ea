using System.Security.Claims;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Serverless.Core.Api;

/// <summary>
/// The caller App Service authentication (Easy Auth) signed in, as it hands it to the app: the base64 JSON of the
/// <c>X-MS-CLIENT-PRINCIPAL</c> header. The platform sets the header itself and drops one a client sends only while its
/// authentication is on for the app, so the header is trusted only then (<see cref="FromPlatform"/>); the local host never
/// reads it. ASP.NET Core does not decode this header (it is not a token), hence this reader.
/// </summary>
public static class ClientPrincipal
{
    public const string Header = "X-MS-CLIENT-PRINCIPAL";

    /// <summary>The authentication type of callers this reader makes, and of those signed in only with a function key.</summary>
    public const string AuthenticationType = "AppServiceAuthentication";

    /// <summary>
    /// The app setting App Service sets to <c>True</c> while its authentication is on for the app. With authentication off
    /// the platform passes a client's own <see cref="Header"/> through untouched, so anyone who can call the app could name
    /// the audit log's actor and claim any role.
    /// </summary>
    public const string PlatformAuthenticationSetting = "WEBSITE_AUTH_ENABLED";

    /// <summary>Claim types that name a caller when the principal's own name claim is absent, in order of preference.</summary>
    private static readonly string[] NameFallbacks = ["name", "preferred_username", "upn", "email", ClaimTypes.Email, ClaimTypes.Upn, "oid", ClaimTypes.NameIdentifier];

    /// <summary>Whether <see cref="PlatformAuthenticationSetting"/>'s value says App Service authentication is on.</summary>
    public static bool IsPlatformAuthenticationOn(string? setting) => bool.TryParse(setting?.Trim(), out var on) && on;

    /// <summary>
    /// The caller the platform signed in: the decoded header while App Service authentication is on
    /// (<paramref name="platformAuthenticationSetting"/> is <see cref="PlatformAuthenticationSetting"/>'s value); null
    /// otherwise, whatever the request carries, since then the header is the client's own.
    /// </summary>
    public static ClaimsPrincipal? FromPlatform(string? header, string? platformAuthenticationSetting) =>
        IsPlatformAuthenticationOn(platformAuthenticationSetting) ? Decode(header) : null;

    /// <summary>Decodes the header, trusting it; null when it is absent or not a principal. Behind App Service, read it with <see cref="FromPlatform"/>.</summary>
    public static ClaimsPrincipal? Decode(string? header)
    {
        if (string.IsNullOrWhiteSpace(header)) return null;
        Payload? payload;
        try
        {
            payload = JsonSerializer.Deserialize<Payload>(Encoding.UTF8.GetString(Convert.FromBase64String(header.Trim())));
        }
        catch (Exception e) when (e is FormatException or JsonException)
        {
            return null;
        }
        if (payload?.Claims is not { Count: > 0 } claims) return null;

        var nameType = string.IsNullOrEmpty(payload.NameType) ? ClaimTypes.Name : payload.NameType;
        var roleType = string.IsNullOrEmpty(payload.RoleType) ? ClaimTypes.Role : payload.RoleType;
        var list = claims.Where(c => c.Type is not null && c.Value is not null).Select(c => new Claim(c.Type!, c.Value!)).ToList();
        if (!list.Any(c => c.Type == nameType))
        {
            var name = NameFallbacks.Select(t => list.FirstOrDefault(c => c.Type == t)?.Value).FirstOrDefault(v => !string.IsNullOrEmpty(v));
            if (name is null) return null;
            list.Add(new Claim(nameType, name));
        }
        // Entra ID puts app roles in "roles"; whatever role_typ says, they count as roles.
        list.AddRange(list.Where(c => c.Type == "roles" && roleType != "roles").Select(c => new Claim(roleType, c.Value)).ToList());
        return new ClaimsPrincipal(new ClaimsIdentity(list, payload.AuthenticationType ?? AuthenticationType, nameType, roleType));
    }

    /// <summary>Encodes a principal as App Service does (for tests and tools that call the Functions app as it would be called).</summary>
    public static string Encode(string authenticationType, IEnumerable<(string Type, string Value)> claims) =>
        Convert.ToBase64String(JsonSerializer.SerializeToUtf8Bytes(new Payload
        {
            AuthenticationType = authenticationType,
            NameType = ClaimTypes.Name,
            RoleType = ClaimTypes.Role,
            Claims = [.. claims.Select(c => new PayloadClaim { Type = c.Type, Value = c.Value })],
        }));

    private sealed class Payload
    {
        [JsonPropertyName("auth_typ")] public string? AuthenticationType { get; set; }
        [JsonPropertyName("name_typ")] public string? NameType { get; set; }
        [JsonPropertyName("role_typ")] public string? RoleType { get; set; }
        [JsonPropertyName("claims")] public List<PayloadClaim>? Claims { get; set; }
    }

    private sealed class PayloadClaim
    {
        [JsonPropertyName("typ")] public string? Type { get; set; }
        [JsonPropertyName("val")] public string? Value { get; set; }
    }
}
