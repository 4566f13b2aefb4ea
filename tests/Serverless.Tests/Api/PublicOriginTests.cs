using Microsoft.AspNetCore.Http;
using Serverless.Core.Api;

namespace Serverless.Tests.Api;

/// <summary>The origin absolute URLs are built from: the request's own, unless a front end forwarded a valid one.</summary>
public sealed class PublicOriginTests
{
    [Fact]
    public void Of_NoForwardedHeaders_IsTheRequestsOwn()
    {
        Assert.Equal("http://127.0.0.1:7071", PublicOrigin.Of(Request()));
    }

    [Fact]
    public void Of_ForwardedHttpsAndHost_AreUsed()
    {
        var origin = PublicOrigin.Of(Request((PublicOrigin.ProtoHeader, "HTTPS"), (PublicOrigin.HostHeader, "mlops.azurewebsites.net")));

        Assert.Equal("https://mlops.azurewebsites.net", origin);
    }

    [Fact]
    public void Of_SeveralProxies_TakesTheNearestProxysValue()
    {
        Assert.Equal("https://127.0.0.1:7071", PublicOrigin.Of(Request((PublicOrigin.ProtoHeader, "http, https"))));
    }

    [Theory]
    [InlineData("ftp")]
    [InlineData("javascript")]
    [InlineData("https://evil.example")]
    [InlineData("")]
    public void Of_BogusForwardedProto_IsIgnored(string proto)
    {
        Assert.Equal("http://127.0.0.1:7071", PublicOrigin.Of(Request((PublicOrigin.ProtoHeader, proto))));
    }

    [Theory]
    [InlineData("evil.example/phish")]
    [InlineData("user@evil.example")]
    [InlineData("evil example")]
    [InlineData("evil.example:99999")]
    [InlineData("evil.example:")]
    [InlineData("::1")]
    [InlineData("evil.example?x=1")]
    [InlineData("ex\u00e4mple.com")]
    [InlineData("\u00e9")]
    [InlineData("999.999.999.999")]
    [InlineData("evil_com")]
    [InlineData("-evil.example")]
    public void Of_BogusForwardedHost_IsIgnored(string host)
    {
        Assert.Equal("http://127.0.0.1:7071", PublicOrigin.Of(Request((PublicOrigin.HostHeader, host))));
    }

    [Theory]
    [InlineData("mlops.example:8443")]
    [InlineData("10.0.0.4")]
    [InlineData("xn--exmple-cua.com")]
    [InlineData("[2001:db8::1]:443")]
    public void Of_ValidForwardedHost_IsUsed(string host)
    {
        Assert.Equal($"http://{host}", PublicOrigin.Of(Request((PublicOrigin.HostHeader, host))));
    }

    private static HttpRequest Request(params (string Name, string Value)[] headers)
    {
        var context = new DefaultHttpContext();
        context.Request.Scheme = "http";
        context.Request.Host = new HostString("127.0.0.1:7071");
        foreach (var (name, value) in headers) context.Request.Headers[name] = value;
        return context.Request;
    }
}
