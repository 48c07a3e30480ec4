using System.Diagnostics;
using CloudDevEnv.DevContainers.Tests.ReferenceCli;

namespace CloudDevEnv.Api.Tests;

/// <summary>The document at /openapi/v1.json, as a tool author's generator reads it: linted by Redocly (the npm package
/// @redocly/cli, installed by scripts/install-node-tools.sh) with its recommended rules, and checked for what a
/// generated client needs.</summary>
[Collection(HostCollection.Name)]
public sealed class OpenApiDocumentTests(HostFixture host)
{
    private static readonly string Tools = Path.Combine(RepositoryRoot.Path, "tools", "redocly");

    [Fact]
    public async Task Redocly_finds_no_error_in_the_published_document()
    {
        var document = Path.Combine(Path.GetTempPath(), $"cde-openapi-{Guid.NewGuid():N}.json");
        await File.WriteAllTextAsync(document, await host.Http.GetStringAsync("/openapi/v1.json"));
        try
        {
            var cli = Path.Combine(Tools, "node_modules", "@redocly", "cli", "bin", "cli.js");
            Assert.True(File.Exists(cli), $"Redocly is not installed at {cli}: run scripts/install-node-tools.sh.");
            var start = new ProcessStartInfo("node")
            {
                ArgumentList = { cli, "lint", document, "--config", Path.Combine(Tools, "redocly.yaml"), "--format", "json" },
                WorkingDirectory = Tools,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            start.Environment["REDOCLY_TELEMETRY"] = "off";
            start.Environment["REDOCLY_SUPPRESS_UPDATE_NOTICE"] = "true";
            using var process = Process.Start(start)!;
            var output = process.StandardOutput.ReadToEndAsync();
            var errors = process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();

            var report = JsonDocument.Parse(await output).RootElement;
            var problems = report.GetProperty("problems").EnumerateArray()
                .Where(p => p.GetProperty("severity").GetString() == "error")
                .Select(p => $"{p.GetProperty("ruleId").GetString()}: {p.GetProperty("message").GetString()} at "
                             + string.Join(", ", p.GetProperty("location").EnumerateArray().Select(l => l.GetProperty("pointer").GetString())))
                .ToList();
            Assert.True(problems.Count == 0, $"{problems.Count} errors:\n{string.Join("\n", problems)}\n{await errors}");
            Assert.Equal(0, report.GetProperty("totals").GetProperty("errors").GetInt32());
        }
        finally
        {
            File.Delete(document);
        }
    }

    [Fact]
    public async Task Every_operation_is_named_summarised_secured_and_typed_and_no_dashboard_route_leaks_in()
    {
        var document = await host.Http.GetFromJsonAsync<JsonElement>("/openapi/v1.json");
        var paths = document.GetProperty("paths").EnumerateObject().ToList();
        Assert.DoesNotContain(paths, p => p.Name.StartsWith("/dashboard", StringComparison.Ordinal));
        Assert.All(paths, p => Assert.StartsWith("/api/", p.Name));

        var operations = paths.SelectMany(p => p.Value.EnumerateObject().Select(o => (Path: p.Name, Method: o.Name, Operation: o.Value))).ToList();
        Assert.True(operations.Count >= 13, $"only {operations.Count} operations");
        var ids = operations.Select(o => o.Operation.TryGetProperty("operationId", out var id) ? id.GetString() : null).ToList();
        Assert.All(ids, Assert.NotNull);
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.All(operations, o => Assert.True(o.Operation.TryGetProperty("summary", out _), $"{o.Method} {o.Path} has no summary"));
        Assert.All(operations, o => Assert.True(
            o.Operation.GetProperty("responses").TryGetProperty("401", out var unauthorized)
            && unauthorized.GetProperty("content").TryGetProperty("application/problem+json", out _),
            $"{o.Method} {o.Path} does not declare its 401 problem"));

        Assert.All(operations, o => Assert.True(
            o.Operation.TryGetProperty("parameters", out var parameters)
            && parameters.EnumerateArray().Any(p => p.TryGetProperty("$ref", out var r) && r.GetString() == "#/components/parameters/ApiVersion"),
            $"{o.Method} {o.Path} does not take the Api-Version header"));
        var version = document.GetProperty("components").GetProperty("parameters").GetProperty("ApiVersion");
        Assert.Equal(("Api-Version", "header"), (version.GetProperty("name").GetString(), version.GetProperty("in").GetString()));

        Assert.Equal("http", document.GetProperty("components").GetProperty("securitySchemes").GetProperty("bearer").GetProperty("type").GetString());
        Assert.True(document.GetProperty("security")[0].TryGetProperty("bearer", out _));

        var schemas = document.GetProperty("components").GetProperty("schemas");
        var problem = schemas.GetProperty("ProblemDetails").GetProperty("properties");
        Assert.True(problem.TryGetProperty("field", out _) && problem.TryGetProperty("errors", out _));
        foreach (var name in new[] { "WorkspacePhase", "DesiredState", "ImageSource", "WorkspaceEventKind" })
        {
            var values = schemas.GetProperty(name);
            Assert.Equal("string", values.GetProperty("type").GetString());
            Assert.All(values.GetProperty("enum").EnumerateArray(), v => Assert.Equal(JsonValueKind.String, v.ValueKind));
        }

        // Numbers are numbers (not "integer or a string of digits"), and a launch needs only its repository.
        Assert.Equal("integer", schemas.GetProperty("WorkspaceResource").GetProperty("properties").GetProperty("idleTimeoutMinutes").GetProperty("type").GetString());
        var create = schemas.GetProperty("CreateWorkspaceRequest");
        Assert.Equal(["repoUrl"], create.GetProperty("required").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal("string", create.GetProperty("properties").GetProperty("repoUrl").GetProperty("type").GetString());
        var list = document.GetProperty("paths").GetProperty("/api/workspaces").GetProperty("get").GetProperty("responses").GetProperty("200");
        Assert.Equal("array", list.GetProperty("content").GetProperty("application/json").GetProperty("schema").GetProperty("type").GetString());

        var events = document.GetProperty("paths").GetProperty("/api/workspaces/{id}/events").GetProperty("get")
            .GetProperty("responses").GetProperty("200").GetProperty("content").GetProperty("text/event-stream");
        Assert.True(events.TryGetProperty("schema", out _), "the events stream has no event schema");
    }
}
