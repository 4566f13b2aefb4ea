using System.Security.Claims;
using System.Text;
using Serverless.Core.Api;

namespace Serverless.Tests.Api;

/// <summary>The Functions app's reading of App Service authentication's X-MS-CLIENT-PRINCIPAL header.</summary>
public sealed class ClientPrincipalTests
{
    // The shape App Service sends for an Entra ID sign-in: the claim types name_typ and role_typ point at, and app roles in "roles".
    private const string EntraPrincipal = """
        {"auth_typ":"aad","claims":[
          {"typ":"http://schemas.microsoft.com/identity/claims/objectidentifier","val":"5f1d1a6e-0000-4000-8000-000000000001"},
          {"typ":"name","val":"Alice Example"},
          {"typ":"preferred_username","val":"alice@example.com"},
          {"typ":"roles","val":"MLOps.Approver"},
          {"typ":"roles","val":"MLOps.Reader"}],
         "name_typ":"preferred_username","role_typ":"http://schemas.microsoft.com/ws/2008/06/identity/claims/role"}
        """;

    [Fact]
    public void Decode_EntraSignIn_NamesTheCallerByItsNameClaim()
    {
        var caller = ClientPrincipal.Decode(Base64(EntraPrincipal))!;

        Assert.Equal("alice@example.com", AdminAccess.ActorOf(caller));
    }

    [Fact]
    public void Decode_EntraSignIn_CountsAppRolesAsRoles()
    {
        var caller = ClientPrincipal.Decode(Base64(EntraPrincipal))!;

        Assert.Equal((true, true, false), (caller.IsInRole("MLOps.Approver"), caller.IsInRole("MLOps.Reader"), caller.IsInRole("MLOps.Admin")));
    }

    [Fact]
    public void Decode_NoClaimOfTheNameType_FallsBackToAnotherNameClaim()
    {
        var header = ClientPrincipal.Encode("github", [("urn:github:login", "octo"), ("name", "Octo Cat")]);

        var caller = ClientPrincipal.Decode(header)!;

        Assert.Equal("Octo Cat", caller.Identity!.Name);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not base64 at all!")]
    [InlineData("bnVsbA==")] // "null"
    [InlineData("eyJjbGFpbXMiOltdfQ==")] // {"claims":[]}
    public void Decode_AbsentOrMalformed_IsNoCaller(string? header)
    {
        Assert.Null(ClientPrincipal.Decode(header));
    }

    [Fact]
    public void Check_RoleRequired_RefusesAnonymous401AndOutsiders403()
    {
        var outsider = ClientPrincipal.Decode(ClientPrincipal.Encode("aad", [(ClaimTypes.Name, "eve"), (ClaimTypes.Role, "MLOps.Reader")]))!;

        var anonymous = AdminAccess.Check(new ClaimsPrincipal(new ClaimsIdentity()), "MLOps.Approver") as Microsoft.AspNetCore.Http.IStatusCodeHttpResult;
        var refused = AdminAccess.Check(outsider, "MLOps.Approver") as Microsoft.AspNetCore.Http.IStatusCodeHttpResult;

        Assert.Equal((401, 403), (anonymous?.StatusCode, refused?.StatusCode));
        Assert.Null(AdminAccess.Check(outsider, "MLOps.Reader"));
    }

    [Fact]
    public void FromPlatform_AuthenticationOn_ReadsTheHeader()
    {
        var header = ClientPrincipal.Encode("aad", [(ClaimTypes.Name, "alice")]);

        var caller = ClientPrincipal.FromPlatform(header, "True");

        Assert.Equal("alice", caller?.Identity?.Name);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("False")]
    [InlineData("yes")]
    public void FromPlatform_AuthenticationOff_IgnoresTheHeader(string? setting)
    {
        var forged = ClientPrincipal.Encode("aad", [(ClaimTypes.Name, "mallory"), (ClaimTypes.Role, "MLOps.Approver")]);

        Assert.Null(ClientPrincipal.FromPlatform(forged, setting));
    }

    [Fact]
    public void CheckOnPlatform_RoleRequiredWithoutPlatformAuthentication_Answers500NamingWhatToChange()
    {
        var functionKey = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "function-key")], "FunctionKey"));

        var answer = AdminAccess.CheckOnPlatform(functionKey, "MLOps.Approver", platformAuthentication: false) as Microsoft.AspNetCore.Http.HttpResults.ProblemHttpResult;

        Assert.Equal(500, answer?.StatusCode);
        Assert.Contains("authClientId", answer!.ProblemDetails.Detail);
        Assert.Contains(ClientPrincipal.PlatformAuthenticationSetting, answer.ProblemDetails.Detail);
    }

    [Fact]
    public void CheckOnPlatform_NoRoleWithoutPlatformAuthentication_LetsAFunctionKeyThrough()
    {
        var functionKey = new ClaimsPrincipal(new ClaimsIdentity([new Claim(ClaimTypes.Name, "function-key")], "FunctionKey"));

        Assert.Null(AdminAccess.CheckOnPlatform(functionKey, null, platformAuthentication: false));
    }

    private static string Base64(string json) => Convert.ToBase64String(Encoding.UTF8.GetBytes(json));
}
