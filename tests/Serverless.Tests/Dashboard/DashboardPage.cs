using Microsoft.Playwright;
using Serverless.Tests.Infrastructure;

namespace Serverless.Tests.Dashboard;

/// <summary>
/// The dashboard of a test host open in Debian's Chromium (driven by Playwright, no browser downloaded), on one model,
/// with the page's script errors collected. Fails with a plain message when Chromium is not installed.
/// </summary>
internal sealed class DashboardPage : IAsyncDisposable
{
    /// <summary>Debian's package; Playwright drives it as it is.</summary>
    public const string Chromium = "/usr/bin/chromium";

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private DashboardPage(IPlaywright playwright, IBrowser browser, IPage page)
    {
        _playwright = playwright;
        _browser = browser;
        Page = page;
        page.PageError += (_, error) => Errors.Add(error);
        // The browser logs every 4xx answer as an error (the 401 that asks for the key, a route this host lacks): not a script error.
        page.Console += (_, message) => { if (message.Type == "error" && !message.Text.StartsWith("Failed to load resource", StringComparison.Ordinal)) Errors.Add(message.Text); };
    }

    public IPage Page { get; }

    /// <summary>Script errors and console errors of the page, other than failed loads.</summary>
    public List<string> Errors { get; } = [];

    public static async Task<DashboardPage> OpenAsync(TestHost host, string model)
    {
        if (!File.Exists(Chromium))
        {
            Assert.Fail($"Chromium is not installed at {Chromium}, so the dashboard cannot be tested in a browser. ./test installs it with " +
                        "'apt-get install -y chromium' (as root); on a machine where that is not possible, install the chromium package by hand.");
        }
        var playwright = await Playwright.CreateAsync();
        var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true, Args = ["--no-sandbox"] });
        var page = new DashboardPage(playwright, browser, await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1400, Height = 1600 } }));
        await page.Page.GotoAsync(host.Client.BaseAddress + "#" + model);
        return page;
    }

    /// <summary>Confirms an admin action: the reason in the action dialog, then the admin key when the host asks for it.</summary>
    public async Task ConfirmActionAsync(string reason, string adminKey)
    {
        await Page.FillAsync("#action-reason", reason);
        await Page.ClickAsync("#action-confirm");
        var key = Page.Locator("#key-dialog");
        try
        {
            await key.WaitForAsync(new() { State = WaitForSelectorState.Visible, Timeout = 5_000 });
        }
        catch (TimeoutException)
        {
            return; // The key was given earlier in this tab.
        }
        await Page.FillAsync("#admin-key", adminKey);
        await Page.ClickAsync("#key-confirm");
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}
