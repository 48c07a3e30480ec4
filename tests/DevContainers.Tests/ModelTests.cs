using System.Text.Json;
using Xunit;

namespace CloudDevEnv.DevContainers.Tests;

public sealed class ModelTests
{
    [Fact]
    public void Build_paths_are_relative_to_the_config_folder()
    {
        using var repo = new TestRepository()
            .With(".devcontainer/Dockerfile", "FROM debian")
            .With("docker/base.Dockerfile", "FROM debian");
        var build = repo.LoadJson("""
            {
              "build": {
                "dockerfile": "Dockerfile", "context": "..", "target": "dev",
                "args": { "VARIANT": "${localEnv:VARIANT:bookworm}" }, "cacheFrom": "ghcr.io/x/y", "options": ["--pull"]
              }
            }
            """).Build!;
        Assert.Equal("Dockerfile", build.Dockerfile);
        Assert.Equal(repo.PathOf(".devcontainer/Dockerfile"), build.DockerfilePath);
        Assert.Equal("..", build.Context);
        Assert.Equal(repo.Folder, build.ContextPath);
        Assert.Equal(".devcontainer/Dockerfile", build.DockerfileInContext);
        Assert.Equal("dev", build.Target);
        Assert.Equal(new Dictionary<string, string> { ["VARIANT"] = "bookworm" }, build.Args);
        Assert.Equal(["ghcr.io/x/y"], build.CacheFrom);
        Assert.Equal("[\"--pull\"]", build.AdditionalProperties["options"].GetRawText());

        var other = repo.LoadJson("""{ "build": { "dockerfile": "../docker/base.Dockerfile" } }""").Build!;
        // Without a context the CLI builds in the Dockerfile's folder.
        Assert.Equal(repo.PathOf("docker"), other.ContextPath);
        Assert.Equal("base.Dockerfile", other.DockerfileInContext);
    }

    [Fact]
    public void The_legacy_dockerFile_property_is_read()
    {
        using var repo = new TestRepository().With(".devcontainer/Dockerfile", "FROM debian");
        var config = repo.LoadJson("""{ "dockerFile": "Dockerfile", "context": "..", "build": { "args": { "A": "1" } } }""");
        Assert.Equal(repo.Folder, config.Build!.ContextPath);
        Assert.Equal("1", config.Build.Args["A"]);
        Assert.Empty(config.AdditionalProperties);
    }

    [Theory]
    [InlineData("""{ "build": { "dockerfile": "../../Dockerfile" } }""", "points outside the repository")]
    [InlineData("""{ "build": { "dockerfile": "/etc/passwd" } }""", "points outside the repository")]
    [InlineData("""{ "build": { "dockerfile": "Dockerfile", "context": "../.." } }""", "'build.context' ('../..') points outside the repository")]
    [InlineData("""{ "build": { "dockerfile": "Missing.Dockerfile" } }""", "which is not a file in the repository (.devcontainer/Missing.Dockerfile)")]
    [InlineData("""{ "build": { "dockerfile": "Dockerfile", "context": "nowhere" } }""", "is not a folder in the repository")]
    [InlineData("""{ "build": { "dockerfile": "Dockerfile", "args": { "A": 1 } } }""", "'build.args.A' must be a string")]
    public void Build_errors(string json, string message)
    {
        using var repo = new TestRepository().With(".devcontainer/Dockerfile", "FROM debian");
        var error = Assert.Throws<DevContainerConfigException>(() => repo.LoadJson(json));
        Assert.Contains(message, error.Reason);
    }

    [Fact]
    public void A_build_context_linking_outside_the_repository_is_refused()
    {
        using var outside = new TestRepository("outside");
        using var repo = new TestRepository().With(".devcontainer/Dockerfile", "FROM debian");
        Directory.CreateSymbolicLink(repo.PathOf("ctx"), outside.Folder);
        var error = Assert.Throws<DevContainerConfigException>(() =>
            repo.LoadJson("""{ "build": { "dockerfile": "Dockerfile", "context": "../ctx" } }"""));
        Assert.Contains("points outside the repository", error.Reason);
    }

    [Fact]
    public void Defaults_for_a_minimal_configuration()
    {
        using var repo = new TestRepository("my-app");
        var config = repo.LoadJson("""{ "image": "mcr.microsoft.com/devcontainers/base:bookworm" }""");
        Assert.Equal("/workspaces/my-app", config.WorkspaceFolder);
        Assert.Null(config.WorkspaceMount);
        Assert.Null(config.Build);
        Assert.Empty(config.ContainerEnv);
        Assert.Empty(config.ForwardPorts);
        Assert.Equal(RunOptions.None, config.RunOptions);
        Assert.Null(config.HostRequirements);
        Assert.Equal(repo.Folder, config.LocalWorkspaceFolder);
    }

    [Fact]
    public void Ports_and_their_attributes()
    {
        using var repo = new TestRepository();
        var config = repo.LoadJson("""
            {
              "image": "debian",
              "forwardPorts": [3000, "db:5432", "8080"],
              "portsAttributes": {
                "3000": { "label": "App", "onAutoForward": "openBrowser", "protocol": "https", "requireLocalPort": true, "elevateIfNeeded": false, "x-extra": 1 },
                "40000-55000": { "onAutoForward": "ignore" }
              },
              "otherPortsAttributes": { "onAutoForward": "silent" }
            }
            """);
        Assert.Equal([new ForwardPort(null, 3000), new ForwardPort("db", 5432), new ForwardPort(null, 8080)], config.ForwardPorts);
        Assert.Equal("db:5432", config.ForwardPorts[1].ToString());
        var app = config.PortsAttributes["3000"];
        Assert.Equal(("App", "https", "openBrowser", (bool?)true, (bool?)false), (app.Label, app.Protocol, app.OnAutoForward, app.RequireLocalPort, app.ElevateIfNeeded));
        Assert.Equal(1, app.AdditionalProperties["x-extra"].GetInt32());
        Assert.Equal("ignore", config.PortsAttributes["40000-55000"].OnAutoForward);
        Assert.Equal("silent", config.OtherPortsAttributes!.OnAutoForward);
    }

    [Theory]
    [InlineData("[70000]", "'forwardPorts[0]' must be a whole number from 0 to 65535, not 70000")]
    [InlineData("[30.5]", "must be a whole number")]
    [InlineData("[\"db:\"]", "'forwardPorts[0]' must be a port number or \"host:port\", not \"db:\"")]
    [InlineData("[true]", "must be a port number")]
    public void Bad_ports_are_errors(string ports, string message)
    {
        using var repo = new TestRepository();
        var error = Assert.Throws<DevContainerConfigException>(() => repo.LoadJson($$"""{ "image": "debian", "forwardPorts": {{ports}} }"""));
        Assert.Contains(message, error.Reason);
    }

    [Fact]
    public void Host_requirements_with_sizes()
    {
        using var repo = new TestRepository();
        var requirements = repo.LoadJson("""
            { "image": "debian", "hostRequirements": { "cpus": 4, "memory": "8gb", "storage": "32GB", "gpu": { "cores": 2, "memory": "4096mb" } } }
            """).HostRequirements!;
        Assert.Equal(4, requirements.Cpus);
        Assert.Equal(("8gb", 8L << 30), (requirements.Memory, requirements.MemoryBytes));
        Assert.Equal(32L << 30, requirements.StorageBytes);
        Assert.Equal(new GpuRequirement(false, 2, "4096mb", 4L << 30), requirements.Gpu);

        Assert.Equal(new GpuRequirement(true, null, null, null),
            repo.LoadJson("""{ "image": "d", "hostRequirements": { "gpu": "optional", "memory": "1024" } }""").HostRequirements!.Gpu);
        Assert.Null(repo.LoadJson("""{ "image": "d", "hostRequirements": { "gpu": false } }""").HostRequirements!.Gpu);
    }

    [Theory]
    [InlineData("{ \"memory\": \"8 GiB\" }", "'memory' must be a whole number with an optional unit kb, mb, gb or tb (e.g. \"8gb\"), not \"8 GiB\"")]
    [InlineData("{ \"cpus\": 2.5 }", "'hostRequirements.cpus' must be a whole number")]
    [InlineData("{ \"gpu\": \"yes\" }", "'hostRequirements.gpu' must be true, false, \"optional\" or an object")]
    public void Bad_host_requirements_are_errors(string requirements, string message)
    {
        using var repo = new TestRepository();
        var error = Assert.Throws<DevContainerConfigException>(() =>
            repo.LoadJson($$"""{ "image": "debian", "hostRequirements": {{requirements}} }"""));
        Assert.Contains(message, error.Reason);
    }

    [Fact]
    public void Unknown_properties_and_features_are_kept()
    {
        using var repo = new TestRepository();
        var config = repo.LoadJson("""
            {
              "image": "debian",
              "features": { "ghcr.io/devcontainers/features/node:1": { "version": "${localEnv:NODE:22}" }, "ghcr.io/x/y:1": {} },
              "customizations": { "vscode": { "extensions": ["ms-dotnettools.csharp"] } },
              "overrideCommand": false,
              "x-big-number": 12345678901234567890
            }
            """);
        Assert.Equal("22", config.Features["ghcr.io/devcontainers/features/node:1"].GetProperty("version").GetString());
        Assert.Equal(["customizations", "overrideCommand", "x-big-number"], config.AdditionalProperties.Keys.Order(StringComparer.Ordinal));
        Assert.Equal(JsonValueKind.False, config.AdditionalProperties["overrideCommand"].ValueKind);
        Assert.Equal("12345678901234567890", config.AdditionalProperties["x-big-number"].GetRawText());
    }

    [Fact]
    public void Environment_users_and_workspace()
    {
        using var repo = new TestRepository();
        var config = repo.LoadJson("""
            {
              "image": "debian",
              "containerEnv": { "A": "1" },
              "remoteEnv": { "B": "2", "C": null },
              "containerUser": "root",
              "remoteUser": "vscode",
              "workspaceFolder": "/work",
              "workspaceMount": "source=${localWorkspaceFolder},target=/work,type=bind"
            }
            """);
        Assert.Equal("1", config.ContainerEnv["A"]);
        Assert.Equal("2", config.RemoteEnv["B"]);
        Assert.Null(config.RemoteEnv["C"]);
        Assert.Equal(("root", "vscode"), (config.ContainerUser, config.RemoteUser));
        Assert.Equal("/work", config.WorkspaceFolder);
        Assert.Equal($"source={repo.Folder},target=/work,type=bind", config.WorkspaceMount);
    }

    [Theory]
    [InlineData("\"containerEnv\": { \"A\": 1 }", "'containerEnv.A' must be a string, not a number")]
    [InlineData("\"containerEnv\": []", "'containerEnv' must be an object, not an array")]
    [InlineData("\"remoteUser\": true", "'remoteUser' must be a string, not true")]
    [InlineData("\"workspaceFolder\": 1", "'workspaceFolder' must be a string")]
    [InlineData("\"runArgs\": \"--init\"", "'runArgs' must be an array")]
    public void Type_errors(string property, string message)
    {
        using var repo = new TestRepository();
        var error = Assert.Throws<DevContainerConfigException>(() => repo.LoadJson($$"""{ "image": "debian", {{property}} }"""));
        Assert.Contains(message, error.Reason);
    }

    [Fact]
    public void A_docker_compose_configuration_has_no_image_source_and_names_its_files_and_service()
    {
        using var repo = new TestRepository();
        repo.With("docker-compose.yml", "services: {}\n");
        var config = repo.LoadJson("""{ "dockerComposeFile": ["../docker-compose.yml"], "service": "app", "forwardPorts": [3000] }""");
        Assert.Null(config.Image);
        Assert.Null(config.Build);
        Assert.Equal([repo.PathOf("docker-compose.yml")], config.Compose!.Files);
        Assert.Equal(("app", null, "stopCompose"), (config.Compose.Service, config.Compose.RunServices, config.Compose.ShutdownAction));
        Assert.Empty(config.AdditionalProperties);
        Assert.Equal(3000, config.ForwardPorts[0].Port);
    }

    [Theory]
    [InlineData("""{ "dockerComposeFile": "missing.yml", "service": "app" }""", "'dockerComposeFile' names 'missing.yml', which is not a file in the repository (.devcontainer/missing.yml)")]
    [InlineData("""{ "dockerComposeFile": "../../outside.yml", "service": "app" }""", "'dockerComposeFile' ('../../outside.yml') points outside the repository")]
    [InlineData("""{ "dockerComposeFile": "../docker-compose.yml" }""", "a Docker Compose configuration must name its 'service'")]
    [InlineData("""{ "dockerComposeFile": "../docker-compose.yml", "service": "app", "shutdownAction": "stopContainer" }""", "'shutdownAction' of a Docker Compose configuration is \"stopCompose\" or \"none\"")]
    public void A_docker_compose_configuration_that_cannot_be_read_says_why(string json, string message)
    {
        using var repo = new TestRepository();
        repo.With("docker-compose.yml", "services: {}\n");
        var error = Assert.Throws<DevContainerConfigException>(() => repo.LoadJson(json));
        Assert.Contains(message, error.Reason, StringComparison.Ordinal);
    }

    [Fact]
    public void Legacy_vscode_properties_move_into_customizations_as_in_the_cli()
    {
        using var repo = new TestRepository();
        var config = repo.LoadJson("""
            {
              "image": "debian",
              "extensions": ["a.b"],
              "settings": { "x": 1, "y": 1 },
              "customizations": { "vscode": { "extensions": ["c.d"], "settings": { "y": 2 } } }
            }
            """);
        Assert.Equal(["customizations"], config.AdditionalProperties.Keys);
        var vscode = config.AdditionalProperties["customizations"].GetProperty("vscode");
        Assert.Equal("""["c.d","a.b"]""", vscode.GetProperty("extensions").GetRawText());
        Assert.Equal("""{"x":1,"y":2}""", vscode.GetProperty("settings").GetRawText());
    }
}
