using CloudDevEnv.DevContainers.Tests.ReferenceCli;
using Microsoft.Playwright;

namespace CloudDevEnv.Api.Tests.WebPage;

/// <summary>The real host on the real engine and Debian's Chromium driven by Playwright (headless, from
/// <c>CDE_CHROMIUM</c> or /usr/bin/chromium; ./test.sh installs it). One of each for all the page's tests.</summary>
public sealed class WebPageFixture : IAsyncLifetime
{
    private readonly string _dataDir = Directory.CreateTempSubdirectory("cde-page-").FullName;
    private SiloProcess? _silo;
    private IPlaywright? _playwright;
    private readonly HashSet<string> _users = [];

    public const int RateLimit = 3;

    public string RepoRoot { get; } = Directory.CreateTempSubdirectory("cde-page-repos-").FullName;

    public IBrowser Browser { get; private set; } = null!;

    public Uri Api => _silo!.Api;

    public string HostOutput => _silo?.Output ?? string.Empty;

    /// <summary>Where the steps' screenshots go: the test artifacts CI keeps.</summary>
    public string Screenshots { get; } = Path.Combine(RepositoryRoot.Path, "artifacts", "screenshots");

    /// <summary>The path of the accessibility engine (the npm package axe-core, installed by scripts/install-node-tools.sh).</summary>
    public string AxeScript { get; } = Path.Combine(RepositoryRoot.Path, "tools", "axe-core", "node_modules", "axe-core", "axe.min.js");

    public async Task InitializeAsync()
    {
        var chromium = Environment.GetEnvironmentVariable("CDE_CHROMIUM") is { Length: > 0 } set ? set : "/usr/bin/chromium";
        Assert.True(File.Exists(chromium), $"Chromium is not at {chromium}: run ./test.sh (it installs Debian's chromium) or set CDE_CHROMIUM.");
        Directory.CreateDirectory(Screenshots);

        _silo = await SiloProcess.StartAsync(_dataDir, FreePorts.Take(4), new Dictionary<string, string>
        {
            ["CDE_LOCAL_REPO_ROOTS"] = RepoRoot,
            ["CDE_ADMINS"] = "page-admin",
            // Three launches per user per hour: no test's user makes more, but the rate limit's.
            ["Api__CreateLimit"] = RateLimit.ToString(System.Globalization.CultureInfo.InvariantCulture),
            ["Api__CreateLimitWindow"] = "01:00:00",
        });
        _playwright = await Playwright.CreateAsync();
        Browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = chromium,
            Headless = true,
            // Root in a container has no user namespaces for Chromium's sandbox; the pages are the platform's own.
            Args = ["--no-sandbox"],
        });
    }

    /// <summary>A browser of its own for one user, signed in with the development sign-in through the page.</summary>
    public async Task<IPage> SignInAsync(string user, int width = 1280, int height = 860, bool bypassCsp = false)
    {
        _users.Add(user);
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            ViewportSize = new ViewportSize { Width = width, Height = height },
            BypassCSP = bypassCsp,
        });
        var page = await context.NewPageAsync();
        await page.GotoAsync(new Uri(Api, "/").ToString());
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/signin"));
        await page.GetByLabel("User name").FillAsync(user);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await Assertions.Expect(page.GetByText($"Signed in as {user}")).ToBeVisibleAsync();
        return page;
    }

    public Task ShotAsync(IPage page, string name) =>
        page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(Screenshots, name + ".png"), FullPage = true });

    public async Task DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        _playwright?.Dispose();

        // The workspaces a failed test left behind: asked of the host while it runs, removed from the engine after.
        var ids = new List<string>();
        if (_silo is not null)
        {
            foreach (var user in _users)
            {
                using var client = await Users.SignInAsync(Api, user);
                var listed = await client.GetFromJsonAsync<JsonElement>("/api/workspaces");
                ids.AddRange(listed.EnumerateArray().Select(w => w.GetProperty("id").GetString()!));
            }

            await _silo.DisposeAsync();
        }

        await EngineLeftovers.RemoveAsync(ids);
        Directory.Delete(_dataDir, recursive: true);
        Directory.Delete(RepoRoot, recursive: true);
    }
}
