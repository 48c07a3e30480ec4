using System.Diagnostics;
using System.Globalization;
using Microsoft.Playwright;

// What a user waits for, in a real headless Chromium: on the workspaces page, Launch → the Open button (Running) → code-
// server's workbench loaded through the proxy; then the same workbench opened again, through the proxy and, as the
// peer in the same run, straight from the workspace gateway's published port (the secret and target headers set by the
// browser), which is what the proxy adds to a load. Usage: WorkbenchBench <api url> <repository url> <launches>
if (args.Length != 3 || !int.TryParse(args[2], CultureInfo.InvariantCulture, out var launches) || launches < 1)
{
    Console.Error.WriteLine("usage: WorkbenchBench <api url> <repository url> <launches>");
    return 2;
}

var api = args[0].TrimEnd('/');
var repository = args[1];
var chromium = Environment.GetEnvironmentVariable("CDE_CHROMIUM") is { Length: > 0 } set ? set : "/usr/bin/chromium";
if (!File.Exists(chromium))
{
    Console.Error.WriteLine($"Chromium is not at {chromium}: apt-get install chromium, or set CDE_CHROMIUM.");
    return 1;
}

using var playwright = await Playwright.CreateAsync();
await using var browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
{
    ExecutablePath = chromium,
    Headless = true,
    // Root in a container has no user namespaces for Chromium's sandbox; the pages are the platform's own and the bench's.
    Args = ["--no-sandbox"],
});
var timeout = (float)TimeSpan.FromMinutes(3).TotalMilliseconds;
var context = await browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1280, Height = 860 } });
var page = await context.NewPageAsync();
await page.GotoAsync(api + "/");
await page.GetByLabel("User name").FillAsync("bench-ide");
await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
await page.GetByText("Signed in as bench-ide").WaitForAsync();

var rows = new List<long[]>();
for (var i = 0; i < launches; i++)
{
    await page.GotoAsync(api + "/");
    await page.Locator("#repo").FillAsync(repository);
    var clock = Stopwatch.StartNew();
    await page.Locator("#launch-button").ClickAsync();
    var open = page.Locator("#progress-open-button");
    await open.WaitForAsync(new() { State = WaitForSelectorState.Visible, Timeout = timeout });
    var running = clock.ElapsedMilliseconds;
    var ide = await page.Context.RunAndWaitForPageAsync(() => open.ClickAsync());
    await ide.Locator(".monaco-workbench").WaitForAsync(new() { Timeout = timeout });
    var workbench = clock.ElapsedMilliseconds;
    var url = ide.Url;
    var id = new Uri(url).Host.Split('.')[0];
    await ide.CloseAsync();

    // Opened again: code-server runs, the context's cache is warm. Through the proxy (its cookie is in the context).
    var again = await context.NewPageAsync();
    clock.Restart();
    await again.GotoAsync(url);
    await again.Locator(".monaco-workbench").WaitForAsync(new() { Timeout = timeout });
    var reopenProxy = clock.ElapsedMilliseconds;
    await again.CloseAsync();

    // The peer: the same workbench from the gateway's published port, in a fresh context given the gateway's headers.
    var (gateway, secret) = await GatewayOfAsync(id);
    var direct = await browser.NewContextAsync(new BrowserNewContextOptions
    {
        ExtraHTTPHeaders = new Dictionary<string, string> { ["X-CDE-Gateway-Secret"] = secret, ["X-CDE-Target"] = "ide" },
    });
    var warm = await direct.NewPageAsync();
    await warm.GotoAsync(gateway); // a first load, so that both reopen figures are of a warm cache
    await warm.Locator(".monaco-workbench").WaitForAsync(new() { Timeout = timeout });
    await warm.CloseAsync();
    var peer = await direct.NewPageAsync();
    clock.Restart();
    await peer.GotoAsync(gateway);
    await peer.Locator(".monaco-workbench").WaitForAsync(new() { Timeout = timeout });
    var reopenDirect = clock.ElapsedMilliseconds;
    await direct.CloseAsync();

    rows.Add([running, workbench, reopenProxy, reopenDirect]);
    Console.Error.WriteLine($"launch {i + 1}/{launches} ({id}): Running {running} ms, workbench {workbench} ms, reopened {reopenProxy} ms (proxy) / {reopenDirect} ms (gateway)");

    var deleted = await page.EvaluateAsync<int>(
        """
        async id => {
          const me = await (await fetch("/api/me")).json();
          return (await fetch(`/api/workspaces/${id}`, { method: "DELETE", headers: { "X-CSRF-Token": me.csrfToken } })).status;
        }
        """,
        id);
    if (deleted is < 200 or >= 300)
    {
        Console.Error.WriteLine($"deleting {id} answered {deleted}");
        return 1;
    }

    for (var wait = 0; wait < 120 && await page.EvaluateAsync<int>("async id => (await fetch(`/api/workspaces/${id}`)).status", id) != 404; wait++)
    {
        await Task.Delay(500);
    }
}

long Median(int column)
{
    var values = rows.Select(r => r[column]).Order().ToList();
    return values[(values.Count - 1) / 2];
}

Console.WriteLine($"| launches | Launch → Running (Open shown) | Launch → workbench loaded | reopen through the proxy | reopen from the gateway (peer) | proxy/gateway |");
Console.WriteLine("|---:|---:|---:|---:|---:|---:|");
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"| {launches} | {Median(0)} | {Median(1)} | {Median(2)} | {Median(3)} | {(double)Median(2) / Median(3):0.00} |"));
Console.WriteLine();
Console.WriteLine("Raw (ms, running/workbench/reopen proxy/reopen gateway): " + string.Join("; ", rows.Select(r => string.Join(' ', r))));
return 0;

static async Task<(string Url, string Secret)> GatewayOfAsync(string id)
{
    var container = "cde-" + id;
    var port = await DockerAsync("inspect", "-f", "{{index .Config.Labels \"dev.clouddevenv.gateway-port\"}}", container);
    var published = (await DockerAsync("port", container, port.Trim() + "/tcp")).Split('\n')
        .First(l => l.StartsWith("127.0.0.1:", StringComparison.Ordinal)).Trim();
    var secret = (await DockerAsync("inspect", "-f", "{{range .Config.Env}}{{println .}}{{end}}", container)).Split('\n')
        .First(l => l.StartsWith("CDE_GATEWAY_SECRET=", StringComparison.Ordinal))["CDE_GATEWAY_SECRET=".Length..].Trim();
    return ($"http://{published}/", secret);
}

static async Task<string> DockerAsync(params string[] arguments)
{
    var start = new ProcessStartInfo("docker") { RedirectStandardOutput = true, RedirectStandardError = true };
    foreach (var argument in arguments)
    {
        start.ArgumentList.Add(argument);
    }

    using var process = Process.Start(start)!;
    var output = await process.StandardOutput.ReadToEndAsync();
    await process.WaitForExitAsync();
    return process.ExitCode == 0 ? output : throw new InvalidOperationException($"docker {string.Join(' ', arguments)}: {await process.StandardError.ReadToEndAsync()}");
}
