using System.Text.RegularExpressions;
using CloudDevEnv.Workspaces.Docker.Tests;
using Microsoft.Playwright;
using static Microsoft.Playwright.Assertions;

namespace CloudDevEnv.Api.Tests.WebPage;

/// <summary>The workspaces page in a real Chromium, against the real host and the real engine, as a new user meets it.
/// Each step leaves a screenshot in artifacts/screenshots.</summary>
public sealed class WebPageTests(WebPageFixture fixture) : IClassFixture<WebPageFixture>
{
    private static readonly TimeSpan Launch = TimeSpan.FromMinutes(3);

    [Fact]
    public async Task A_user_launches_opens_the_ide_stops_starts_and_deletes_and_another_user_sees_none_of_it()
    {
        var repository = TestRepository.Create(fixture.RepoRoot, "webapp")
            .Write("README.md", "# webapp\n")
            .Write("hello_page.py", "print('hello')\n");
        repository.Commit("first");

        var page = await fixture.SignInAsync("ada");
        await Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Launch a workspace" })).ToBeVisibleAsync();
        await fixture.ShotAsync(page, "01-signed-in");

        // Launch, and watch the phases advance on the page.
        await page.GetByLabel("Repository URL").FillAsync(repository.Url);
        await page.GetByRole(AriaRole.Button, new() { Name = "Launch" }).ClickAsync();
        var steps = page.Locator("#steps");
        await Expect(steps.Locator("[aria-current=step]")).ToHaveTextAsync(new Regex("Pending|Building|Creating|Initializing"));
        await fixture.ShotAsync(page, "02-launching");
        await Expect(steps.Locator("[aria-current=step]")).ToHaveTextAsync("Running", new() { Timeout = Ms(Launch) });
        await Expect(steps.Locator("li.done")).ToHaveTextAsync(["Pending", "Building", "Creating", "Initializing"]);
        await Expect(page.GetByRole(AriaRole.Log)).Not.ToBeEmptyAsync();
        var row = page.Locator("#rows tr", new() { HasText = repository.Url });
        await Expect(row.Locator(".phase")).ToHaveTextAsync("Running");
        await Expect(row).ToContainTextAsync("fallback");
        await Expect(row).ToContainTextAsync(new Regex(@"stops in \d+ min"));
        await Expect(row.GetByRole(AriaRole.Button, new() { Name = "Start" })).ToBeDisabledAsync();
        await fixture.ShotAsync(page, "03-running");

        // Open: a new tab on the workspace's own origin, signed in from the platform session, showing the IDE.
        var ide = await page.Context.RunAndWaitForPageAsync(() => row.GetByRole(AriaRole.Button, new() { Name = "Open" }).ClickAsync());
        await Expect(ide.Locator(".monaco-workbench")).ToBeVisibleAsync(new() { Timeout = Ms(Launch) });
        await Expect(ide.Locator(".explorer-folders-view").GetByText("hello_page.py")).ToBeVisibleAsync(new() { Timeout = 60_000 });
        // The folder the user chose opens trusted: no trust prompt, no "Restricted Mode" in the status bar.
        await Expect(ide.GetByText("Do you trust the authors of the files in this folder?")).ToHaveCountAsync(0);
        await Expect(ide.Locator(".statusbar").GetByText("Restricted Mode")).ToHaveCountAsync(0);
        Assert.Matches(@"^http://[a-z0-9-]+\.localhost:\d+/", ide.Url);
        await fixture.ShotAsync(ide, "04-ide");
        var workspaceUrl = new Uri(ide.Url).GetLeftPart(UriPartial.Authority) + "/";
        await ide.CloseAsync();

        // Another user: none of it in their list, and refused at its address.
        var bob = await fixture.SignInAsync("bob");
        await Expect(bob.GetByText("No workspaces yet")).ToBeVisibleAsync();
        await Expect(bob.Locator("#rows")).Not.ToContainTextAsync(repository.Url);
        var refused = await bob.GotoAsync(workspaceUrl);
        Assert.Equal(403, refused!.Status);
        await Expect(bob.GetByRole(AriaRole.Heading, new() { Name = "Not your workspace" })).ToBeVisibleAsync();
        await Expect(bob.Locator(".monaco-workbench")).ToHaveCountAsync(0);
        await fixture.ShotAsync(bob, "05-another-user-refused");
        await bob.Context.CloseAsync();

        // Stop, start, delete from the page.
        await row.GetByRole(AriaRole.Button, new() { Name = "Stop" }).ClickAsync();
        await Expect(row.Locator(".phase")).ToHaveTextAsync("Stopped", new() { Timeout = Ms(Launch) });
        await Expect(row.GetByRole(AriaRole.Button, new() { Name = "Open" })).ToBeDisabledAsync();
        await fixture.ShotAsync(page, "06-stopped");
        await row.GetByRole(AriaRole.Button, new() { Name = "Start" }).ClickAsync();
        await Expect(row.Locator(".phase")).ToHaveTextAsync("Running", new() { Timeout = Ms(Launch) });

        await row.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        var confirm = page.GetByRole(AriaRole.Dialog, new() { Name = "Delete this workspace?" });
        await Expect(confirm).ToBeVisibleAsync();
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Cancel" }).ClickAsync();
        await Expect(row.Locator(".phase")).ToHaveTextAsync("Running");
        await row.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await confirm.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Expect(row).ToHaveCountAsync(0, new() { Timeout = Ms(Launch) });
        await Expect(page.GetByText("No workspaces yet")).ToBeVisibleAsync();
        await fixture.ShotAsync(page, "07-deleted");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task An_invalid_repository_url_is_shown_under_the_field_and_launches_nothing()
    {
        var page = await fixture.SignInAsync("carol");
        var field = page.GetByLabel("Repository URL");

        // Refused in the page.
        await field.FillAsync("not a url");
        await page.GetByRole(AriaRole.Button, new() { Name = "Launch" }).ClickAsync();
        await Expect(page.Locator("#repo-error")).ToContainTextAsync("not a repository URL");
        await Expect(field).ToHaveAttributeAsync("aria-invalid", "true");
        await Expect(field).ToBeFocusedAsync();

        // Refused by the API (the page does not know which local folders the host allows): its problem, under the field.
        await field.FillAsync("file:///etc");
        await page.GetByRole(AriaRole.Button, new() { Name = "Launch" }).ClickAsync();
        await Expect(page.Locator("#repo-error")).ToBeVisibleAsync();
        await Expect(page.Locator("#repo-error")).Not.ToContainTextAsync("not a repository URL");
        await fixture.ShotAsync(page, "08-invalid-url");
        await Expect(page.GetByText("No workspaces yet")).ToBeVisibleAsync();
        await Expect(page.Locator("#progress")).ToBeHiddenAsync();
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task Launching_too_often_says_when_to_try_again_and_the_form_works_from_the_keyboard()
    {
        var page = await fixture.SignInAsync("erin");
        var field = page.GetByLabel("Repository URL");

        // From the keyboard: the field, then Enter. Each launch is refused by the API (a folder the host does not
        // allow), so no workspace is made, but each counts against the launch rate.
        for (var i = 0; i < WebPageFixture.RateLimit; i++)
        {
            await field.FocusAsync();
            await field.FillAsync("file:///etc");
            await page.Keyboard.PressAsync("Enter");
            await Expect(page.Locator("#repo-error")).ToBeVisibleAsync();
        }

        await field.FillAsync("https://github.com/octo/hello");
        await page.Keyboard.PressAsync("Enter");
        var alert = page.Locator("#launch-error");
        await Expect(alert).ToContainTextAsync(new Regex(@"too many workspaces in a short time; try again in \d+ s"));
        await Expect(alert).ToHaveAttributeAsync("role", "alert");
        await Expect(page.Locator("#repo-error")).ToBeHiddenAsync();
        await Expect(page.GetByText("No workspaces yet")).ToBeVisibleAsync();
        await fixture.ShotAsync(page, "11-rate-limited");
        await page.Context.CloseAsync();
    }

    [Fact]
    public async Task At_phone_width_nothing_scrolls_sideways_axe_finds_no_serious_violation_and_only_an_admin_sees_everyone()
    {
        // A workspace that fails (no network here for github.com), so that a row with a long URL and reason is on the page.
        var page = await fixture.SignInAsync("dora", width: 375, height: 800, bypassCsp: true);
        await page.GetByLabel("Repository URL").FillAsync("https://github.com/a-rather-long-organisation-name/an-even-longer-repository-name-for-wrapping");
        await page.GetByRole(AriaRole.Button, new() { Name = "Launch" }).ClickAsync();
        var row = page.Locator("#rows tr").First;
        await Expect(row.Locator(".phase")).ToHaveTextAsync("Failed", new() { Timeout = Ms(Launch) });
        await Expect(page.Locator("#progress-reason")).ToContainTextAsync("The launch failed:");
        await page.Locator("details summary").ClickAsync();

        var overflow = await page.EvaluateAsync<int>("() => document.documentElement.scrollWidth - window.innerWidth");
        Assert.True(overflow <= 0, $"the page is {overflow} px wider than a 375 px screen");
        await fixture.ShotAsync(page, "09-phone");

        await AssertAccessibleAsync(page);
        await page.SetViewportSizeAsync(1280, 860);
        await AssertAccessibleAsync(page);

        // The sign-in page too.
        var anonymous = await fixture.Browser.NewPageAsync(new BrowserNewPageOptions { BypassCSP = true });
        await anonymous.GotoAsync(new Uri(fixture.Api, "/signin").ToString());
        await AssertAccessibleAsync(anonymous);
        await anonymous.CloseAsync();

        // An admin: the operator dashboard, and everyone's workspaces on request; a user has neither.
        await Expect(page.GetByRole(AriaRole.Link, new() { Name = "Operator dashboard" })).ToBeHiddenAsync();
        await Expect(page.GetByLabel("Everyone's workspaces")).ToBeHiddenAsync();
        var admin = await fixture.SignInAsync("page-admin");
        await Expect(admin.GetByRole(AriaRole.Link, new() { Name = "Operator dashboard" })).ToBeVisibleAsync();
        await Expect(admin.GetByText("No workspaces yet")).ToBeVisibleAsync();
        await admin.GetByLabel("Everyone's workspaces").CheckAsync();
        await Expect(admin.Locator("#rows tr", new() { HasText = "an-even-longer-repository-name" })).ToContainTextAsync("owner dora");
        await fixture.ShotAsync(admin, "10-admin-everyone");
        await admin.Context.CloseAsync();

        await row.GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await Expect(page.GetByText("No workspaces yet")).ToBeVisibleAsync(new() { Timeout = Ms(Launch) });
        await page.Context.CloseAsync();
    }

    /// <summary>axe-core, injected into the page, reports no violation of serious or critical impact.</summary>
    private async Task AssertAccessibleAsync(IPage page)
    {
        Assert.True(File.Exists(fixture.AxeScript), $"axe-core is not installed at {fixture.AxeScript}: run scripts/install-node-tools.sh.");
        await page.AddScriptTagAsync(new PageAddScriptTagOptions { Path = fixture.AxeScript });
        var violations = await page.EvaluateAsync<JsonElement>("""
            async () => (await axe.run(document, { resultTypes: ['violations'] })).violations
                .filter(v => v.impact === 'serious' || v.impact === 'critical')
                .map(v => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map(n => n.target.join(' ')).join(', ')})`)
            """);
        Assert.True(violations.GetArrayLength() == 0, $"{page.Url}: {string.Join("\n", violations.EnumerateArray())}");
    }

    private static float Ms(TimeSpan span) => (float)span.TotalMilliseconds;
}
