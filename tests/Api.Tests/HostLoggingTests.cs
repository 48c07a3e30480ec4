namespace CloudDevEnv.Api.Tests;

/// <summary>The host reads its own appsettings.json (log levels) wherever it is started from, as ./run.sh starts it from
/// the repository's root: otherwise Orleans and YARP log at Information, a line or two for every proxied request.</summary>
public sealed class HostLoggingTests
{
    [Fact]
    public async Task The_local_host_started_from_another_folder_keeps_its_log_levels()
    {
        var elsewhere = Directory.CreateTempSubdirectory("cde-cwd-").FullName;
        var data = Directory.CreateTempSubdirectory("cde-log-data-").FullName;
        try
        {
            await using var silo = await SiloProcess.StartAsync(data, FreePorts.Take(4), workingDirectory: elsewhere);
            using var http = new HttpClient { BaseAddress = silo.Api };
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync("/healthz")).StatusCode);
            // Orleans logs dozens of Information lines while a silo starts; appsettings.json keeps it at Warning.
            Assert.DoesNotContain("info: Orleans.", silo.Output, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(elsewhere, recursive: true);
            Directory.Delete(data, recursive: true);
        }
    }
}
