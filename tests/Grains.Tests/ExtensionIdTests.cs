using CloudDevEnv.Grains.Provisioning.Ide;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Grains.Tests;

/// <summary>Extension ids come from the repository: only what names an extension is fetched or installed.</summary>
public sealed class ExtensionIdTests
{
    [Theory]
    [InlineData("ms-python.python", "ms-python", "python", null)]
    [InlineData("rust-lang.rust-analyzer@0.3.1850", "rust-lang", "rust-analyzer", "0.3.1850")]
    [InlineData("redhat.java@1.2.3-pre.1", "redhat", "java", "1.2.3-pre.1")]
    public void An_id_with_an_optional_version_is_read(string text, string publisher, string name, string? version)
    {
        Assert.True(ExtensionId.TryParse(text, out var id));
        Assert.Equal((publisher, name, version), (id.Publisher, id.Name, id.Version));
    }

    [Theory]
    [InlineData("../../etc/passwd")]
    [InlineData("a.b/../../c")]
    [InlineData("a.b@1.0;rm -rf /")]
    [InlineData("a.b@latest")]
    [InlineData("https://example.invalid/x.vsix")]
    [InlineData("a.b c")]
    [InlineData("nopublisher")]
    public void Anything_else_is_refused(string text) => Assert.False(ExtensionId.TryParse(text, out _));

    [Fact]
    public void A_registry_that_is_not_an_http_url_stops_the_host_with_its_key()
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection([new("Ide:ExtensionRegistry", "ftp://registry")]).Build();
        using var provider = new ServiceCollection().AddLogging().AddWorkspaceGrains(configuration).BuildServiceProvider();
        var error = Assert.Throws<OptionsValidationException>(() => provider.GetRequiredService<IOptions<IdeOptions>>().Value);
        Assert.Contains("Ide:ExtensionRegistry", error.Message, StringComparison.Ordinal);
    }
}
