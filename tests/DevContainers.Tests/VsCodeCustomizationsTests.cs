using System.Text.Json;
using Xunit;

namespace CloudDevEnv.DevContainers.Tests;

/// <summary>customizations.vscode merged as the spec merges image metadata: the image's first, then each feature's,
/// then devcontainer.json's; settings by key with the later winning, extensions as a union.</summary>
public sealed class VsCodeCustomizationsTests
{
    private static JsonElement? Customizations(string json) => JsonDocument.Parse(json).RootElement;

    [Fact]
    public void Later_places_win_settings_and_extensions_are_a_union_in_order_of_first_mention()
    {
        var merged = VsCodeCustomizations.Merge(
        [
            Customizations("""{ "vscode": { "settings": { "editor.tabSize": 8, "a": 1 }, "extensions": ["ms-python.python", "Foo.Bar"] } }"""),
            null,
            Customizations("""{ "jetbrains": { "plugins": ["x"] } }"""),
            Customizations("""{ "vscode": { "settings": { "editor.tabSize": 2 }, "extensions": ["foo.bar@1.2.3", "rust-lang.rust-analyzer"] } }"""),
        ]);

        using var settings = JsonDocument.Parse(merged.Settings);
        Assert.Equal(2, settings.RootElement.GetProperty("editor.tabSize").GetInt32());
        Assert.Equal(1, settings.RootElement.GetProperty("a").GetInt32());
        Assert.Equal(["ms-python.python", "foo.bar", "rust-lang.rust-analyzer"], merged.Extensions);
    }

    [Fact]
    public void A_minus_removes_an_extension_an_earlier_place_added()
    {
        var merged = VsCodeCustomizations.Merge(
        [
            Customizations("""{ "vscode": { "extensions": ["dbaeumer.vscode-eslint", "esbenp.prettier-vscode"] } }"""),
            Customizations("""{ "vscode": { "extensions": ["-dbaeumer.vscode-eslint"] } }"""),
        ]);

        Assert.Equal(["esbenp.prettier-vscode"], merged.Extensions);
    }

    [Fact]
    public void The_metadata_label_gives_each_entrys_customizations_and_an_unreadable_label_none()
    {
        var label = """[{ "remoteUser": "vscode" }, { "id": "ghcr.io/devcontainers/features/python:1", "customizations": { "vscode": { "extensions": ["ms-python.python"] } } }]""";

        Assert.Equal(["ms-python.python"], VsCodeCustomizations.Merge(VsCodeCustomizations.FromMetadataLabel(label)).Extensions);
        Assert.Empty(VsCodeCustomizations.FromMetadataLabel("[{ not json"));
        Assert.Empty(VsCodeCustomizations.FromMetadataLabel(null));
    }
}
