using Microsoft.Playwright;

namespace RagPlatform.Tests.Shared;

/// <summary>Debian's chromium (installed by scripts/setup/50-chromium.sh), headless, for the browser tests.</summary>
public static class HeadlessChromium
{
    public const string ExecutablePath = "/usr/bin/chromium";

    public static Task<IBrowser> LaunchAsync(IPlaywright playwright) => playwright.Chromium.LaunchAsync(new()
    {
        ExecutablePath = ExecutablePath,
        Headless = true,
        // No sandbox as root; nothing but loopback: no background requests to Google's hosts, no updates, no QUIC.
        Args = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-quic", "--disable-sync"],
    });
}
