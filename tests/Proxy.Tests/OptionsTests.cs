using CloudDevEnv.Proxy.Access;
using CloudDevEnv.Proxy.Forwarding;
using CloudDevEnv.Proxy.Tests.Infrastructure;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Proxy.Tests;

public sealed class OptionsTests
{
    [Fact]
    public void Defaults_suit_local_mode_and_long_idle_ide_sockets()
    {
        var (options, address) = TestServices.Validate(new Dictionary<string, string?> { ["Proxy:SigningKey"] = ProxyServer.TestKey });
        Assert.Equal("localhost", address.Domain);
        Assert.Equal(5080, address.PublicPort);
        Assert.Equal(TimeSpan.FromSeconds(30), options.ActivityReportInterval);

        // YARP cuts a connection idle for 100 s by default; the issue asks for 10 minutes at least.
        Assert.True(options.WebSocketActivityTimeout >= TimeSpan.FromMinutes(10));
        var upstream = new UpstreamClient(Options.Create(options));
        Assert.Equal(options.WebSocketActivityTimeout, upstream.Upgrade.ActivityTimeout);
        Assert.Equal(options.RequestActivityTimeout, upstream.Request.ActivityTimeout);
        Assert.True(upstream.Request.ActivityTimeout > TimeSpan.FromSeconds(100));
    }

    [Fact]
    public void A_missing_signing_key_stops_start_up()
    {
        var error = Assert.Throws<OptionsValidationException>(() => TestServices.Validate(new Dictionary<string, string?>()));
        Assert.Contains("SigningKey", error.Message);
    }

    [Theory]
    [InlineData("Proxy:SigningKey", "c2hvcnQ=")]
    [InlineData("Proxy:SigningKey", "not base64!")]
    [InlineData("Proxy:Domain", "Not A Domain")]
    [InlineData("Proxy:PublicScheme", "ftp")]
    [InlineData("Proxy:ActivityReportInterval", "00:00:00")]
    [InlineData("Proxy:SubscriptionRenewInterval", "00:10:00")]
    [InlineData("Proxy:PlatformUrl", "not a url")]
    [InlineData("Proxy:PlatformUrl", "ftp://127.0.0.1/")]
    [InlineData("Proxy:PlatformUrl", "")]
    public void Bad_settings_stop_start_up(string key, string value)
    {
        var settings = new Dictionary<string, string?> { ["Proxy:SigningKey"] = ProxyServer.TestKey, [key] = value };
        Assert.Throws<OptionsValidationException>(() => TestServices.Validate(settings));
    }

    [Fact]
    public void A_key_file_is_created_once_private_and_reused()
    {
        var folder = Directory.CreateTempSubdirectory("cde-key-");
        try
        {
            var path = Path.Combine(folder.FullName, "data", "proxy-signing.key");
            var settings = new Dictionary<string, string?> { ["Proxy:SigningKeyFile"] = path };
            string signed;
            using (var services = TestServices.Build(settings))
            {
                signed = services.GetRequiredService<SignedValue>().Sign("payload");
            }

            Assert.Equal(32, Convert.FromBase64String(File.ReadAllText(path)).Length);
            if (!OperatingSystem.IsWindows())
            {
                Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            }

            // A second process of the host reads the same key: what one signed, the other verifies.
            using (var services = TestServices.Build(settings))
            {
                Assert.Equal("payload", services.GetRequiredService<SignedValue>().Verify(signed));
            }
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
