using System.Text.Json;
using CloudDevEnv.DevContainers.Features;
using Xunit;

namespace CloudDevEnv.DevContainers.Tests;

/// <summary>The feature model without a registry: how references read, how options become variables, the install order
/// and the build the platform writes.</summary>
public sealed class FeatureTests
{
    [Theory]
    [InlineData("ghcr.io/devcontainers/features/node:1", "ghcr.io", "devcontainers/features/node", "1", "node")]
    [InlineData("ghcr.io/devcontainers/features/common-utils", "ghcr.io", "devcontainers/features/common-utils", "latest", "common-utils")]
    [InlineData("localhost:5000/features/hello:1.2.3", "localhost:5000", "features/hello", "1.2.3", "hello")]
    [InlineData("mcr.microsoft.com/devcontainers/features/go@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "mcr.microsoft.com", "devcontainers/features/go", "sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef", "go")]
    public void An_oci_reference_names_its_registry_repository_and_tag(string written, string registry, string repository, string tag, string id)
    {
        var reference = FeatureReference.Parse(written);
        Assert.Equal((FeatureSourceKind.Oci, registry, repository, tag, id), (reference.Kind, reference.Registry, reference.Repository, reference.Tag, reference.ShortId));
        Assert.Equal($"{registry}/{repository}", reference.Key);
    }

    [Fact]
    public void Local_folders_and_tarballs_are_read_and_anything_else_is_refused_in_words()
    {
        var local = FeatureReference.Parse("./features/my-tool");
        Assert.Equal((FeatureSourceKind.Local, "features/my-tool", "my-tool"), (local.Kind, local.Path, local.ShortId));
        var tarball = FeatureReference.Parse("https://example.com/releases/devcontainer-feature-hello.tgz");
        Assert.Equal((FeatureSourceKind.Tarball, "devcontainer-feature-hello"), (tarball.Kind, tarball.ShortId));

        Assert.Contains("inside the folder of devcontainer.json", Assert.Throws<FormatException>(() => FeatureReference.Parse("../outside")).Message);
        Assert.Contains("inside the folder", Assert.Throws<FormatException>(() => FeatureReference.Parse("./a/../../b")).Message);
        Assert.Contains("is not an OCI reference", Assert.Throws<FormatException>(() => FeatureReference.Parse("docker-in-docker")).Message);
        Assert.Contains(".tgz", Assert.Throws<FormatException>(() => FeatureReference.Parse("https://example.com/feature")).Message);
    }

    [Fact]
    public void Options_become_variables_as_the_spec_converts_them_defaults_first()
    {
        var definition = Definition("""
            { "id": "x", "options": {
                "version": { "type": "string", "default": "lts" },
                "installZsh": { "type": "boolean", "default": true },
                "node-gyp.deps": { "type": "string", "default": "" },
                "2fa": { "type": "string" } } }
            """);
        var environment = definition.OptionEnvironment(JsonDocument.Parse("""{ "installZsh": false, "2fa": "on" }""").RootElement);
        Assert.Equal(new Dictionary<string, string> { ["VERSION"] = "lts", ["INSTALLZSH"] = "false", ["NODE_GYP_DEPS"] = "", ["_FA"] = "on" }, environment);
        Assert.Equal("18", definition.OptionEnvironment(JsonDocument.Parse("\"18\"").RootElement)["VERSION"]);
        Assert.Equal("lts", definition.OptionEnvironment(JsonDocument.Parse("true").RootElement)["VERSION"]);
    }

    [Fact]
    public void The_install_order_follows_dependencies_then_the_override_then_the_ids()
    {
        var features = new[]
        {
            Feature("ghcr.io/x/features/app:1", """{ "id": "app", "dependsOn": { "ghcr.io/x/features/runtime:1": {} } }"""),
            Feature("ghcr.io/x/features/runtime:1", """{ "id": "runtime" }"""),
            Feature("ghcr.io/x/features/alpha:1", """{ "id": "alpha", "installsAfter": ["ghcr.io/x/features/app", "ghcr.io/x/features/absent"] }"""),
            Feature("ghcr.io/x/features/zulu:1", """{ "id": "zulu" }"""),
        };
        string[] Order(params string[] overrides) =>
            [.. FeatureInstallOrder.Order(features, f => f.Reference, f => f.Definition, overrides).Select(f => f.Definition.Id)];

        Assert.Equal(["runtime", "zulu", "app", "alpha"], Order());
        Assert.Equal(["zulu", "runtime", "app", "alpha"], Order("ghcr.io/x/features/zulu"));

        var cycle = new[]
        {
            Feature("ghcr.io/x/features/a:1", """{ "id": "a", "dependsOn": { "ghcr.io/x/features/b:1": {} } }"""),
            Feature("ghcr.io/x/features/b:1", """{ "id": "b", "dependsOn": { "ghcr.io/x/features/a:1": {} } }"""),
        };
        Assert.Contains("cycle", Assert.Throws<InvalidOperationException>(() => FeatureInstallOrder.Order(cycle, f => f.Reference, f => f.Definition, [])).Message);
    }

    [Fact]
    public void The_build_keeps_values_whole_and_records_the_features_in_the_label()
    {
        using var repo = new TestRepository();
        var source = Path.Combine(repo.Folder, "src");
        Directory.CreateDirectory(source);
        File.WriteAllText(Path.Combine(source, "install.sh"), "#!/bin/sh\n");
        var feature = new ResolvedFeature(
            FeatureReference.Parse("ghcr.io/x/features/tool:1"),
            Definition("""{ "id": "tool", "containerEnv": { "TOOL_HOME": "/opt/\"tool\"", "PATH": "/opt/tool/bin:${PATH}" }, "postCreateCommand": "echo $HOME" }"""),
            JsonDocument.Parse("{}").RootElement, source, "sha256:feed");
        var context = Path.Combine(repo.Folder, "context");
        Directory.CreateDirectory(context);

        var dockerfile = FeatureImageRecipe.Write(context, "debian:12", "dev", "dev", "dev", [feature], """[{"remoteUser":"dev"}]""");

        Assert.Contains("ENV TOOL_HOME=\"/opt/\\\"tool\\\"\"", dockerfile);
        Assert.Contains("ENV PATH=\"/opt/tool/bin:${PATH}\"", dockerfile);
        Assert.Contains("RUN /bin/sh /tmp/dev-container-features/cde-install.sh 00_tool", dockerfile);
        Assert.Contains("USER dev\n", dockerfile);
        // The label's $HOME is escaped, or the builder would expand it.
        Assert.Contains("LABEL devcontainer.metadata=\"[{\\\"remoteUser\\\":\\\"dev\\\"},{\\\"id\\\":\\\"ghcr.io/x/features/tool:1\\\",\\\"postCreateCommand\\\":\\\"echo \\$HOME\\\"}]\"", dockerfile);
        Assert.True(File.Exists(Path.Combine(context, "features", "00_tool", "install.sh")));
        Assert.NotEqual(0xEF, File.ReadAllBytes(Path.Combine(context, "features", "cde-install.sh"))[0]);
    }

    private static FeatureDefinition Definition(string json) => FeatureDefinition.Parse(json, "devcontainer-feature.json", DevContainerPolicy.Lenient);

    private static ResolvedFeature Feature(string reference, string json) =>
        new(FeatureReference.Parse(reference), Definition(json), JsonDocument.Parse("{}").RootElement, "/nowhere", "sha256:0");
}
