using Xunit;

namespace CloudDevEnv.DevContainers.Tests;

public sealed class LifecycleCommandTests
{
    [Fact]
    public void A_string_runs_in_a_shell()
    {
        using var repo = new TestRepository();
        var command = repo.LoadJson("""{ "image": "debian", "postCreateCommand": "npm ci && npm run build" }""").PostCreateCommand!;
        Assert.Equal(LifecycleCommandForm.Shell, command.Form);
        var step = Assert.Single(command.Steps);
        Assert.Null(step.Name);
        Assert.Equal("npm ci && npm run build", step.Script);
        Assert.Equal(["/bin/sh", "-c", "npm ci && npm run build"], step.Argv);
    }

    [Fact]
    public void An_array_is_argv_as_is()
    {
        using var repo = new TestRepository();
        var command = repo.LoadJson("""{ "image": "debian", "onCreateCommand": ["echo", "foo='bar'", "$HOME"] }""").OnCreateCommand!;
        Assert.Equal(LifecycleCommandForm.Exec, command.Form);
        var step = Assert.Single(command.Steps);
        Assert.Null(step.Script);
        Assert.Equal(["echo", "foo='bar'", "$HOME"], step.Argv);
    }

    [Fact]
    public void An_object_is_named_commands_in_parallel()
    {
        using var repo = new TestRepository();
        var command = repo.LoadJson("""
            { "image": "debian", "postStartCommand": { "server": "npm start", "watch": ["npm", "run", "watch"], "blank": " ", "none": [] } }
            """).PostStartCommand!;
        Assert.Equal(LifecycleCommandForm.Parallel, command.Form);
        Assert.Equal(2, command.Steps.Count);
        Assert.Equal(new LifecycleStep("server", "npm start", ["/bin/sh", "-c", "npm start"]).Argv, command.Steps[0].Argv);
        Assert.Equal("server", command.Steps[0].Name);
        Assert.Equal("watch", command.Steps[1].Name);
        Assert.Equal(["npm", "run", "watch"], command.Steps[1].Argv);
    }

    [Fact]
    public void Empty_commands_are_absent()
    {
        using var repo = new TestRepository();
        var config = repo.LoadJson("""
            { "image": "debian", "onCreateCommand": "  ", "updateContentCommand": [], "postCreateCommand": {}, "postAttachCommand": null }
            """);
        Assert.Empty(config.LifecycleCommands);
    }

    [Fact]
    public void All_hooks_are_read_in_spec_order_and_initialize_is_marked_as_host_side()
    {
        using var repo = new TestRepository();
        var config = repo.LoadJson("""
            {
              "image": "debian",
              "postAttachCommand": "f", "postStartCommand": "e", "postCreateCommand": "d",
              "updateContentCommand": "c", "onCreateCommand": "b", "initializeCommand": "a",
              "waitFor": "postCreateCommand"
            }
            """);
        Assert.Equal(["a", "b", "c", "d", "e", "f"], config.LifecycleCommands.Select(c => c.Steps[0].Script));
        Assert.Equal(Enum.GetValues<LifecycleHook>(), config.LifecycleCommands.Select(c => c.Hook));
        Assert.True(config.InitializeCommand!.RunsOnHost);
        Assert.False(config.OnCreateCommand!.RunsOnHost);
        Assert.Same(config.PostStartCommand, config.GetLifecycleCommand(LifecycleHook.PostStartCommand));
        Assert.Equal(LifecycleHook.PostCreateCommand, config.WaitFor);
    }

    [Fact]
    public void Wait_for_defaults_to_update_content()
    {
        using var repo = new TestRepository();
        Assert.Equal(LifecycleHook.UpdateContentCommand, repo.LoadJson("""{ "image": "debian" }""").WaitFor);
    }

    [Theory]
    [InlineData("\"postCreateCommand\": 42", "'postCreateCommand' must be a string, an array of strings, or an object")]
    [InlineData("\"postCreateCommand\": [\"echo\", 1]", "'postCreateCommand[1]' must be a string")]
    [InlineData("\"postCreateCommand\": { \"a\": { \"b\": \"c\" } }", "'postCreateCommand.a' must be a string or an array of strings")]
    [InlineData("\"waitFor\": \"soon\"", "'waitFor' must name a lifecycle command")]
    public void Malformed_commands_are_errors(string property, string message)
    {
        using var repo = new TestRepository();
        var error = Assert.Throws<DevContainerConfigException>(() => repo.LoadJson($$"""{ "image": "debian", {{property}} }"""));
        Assert.Contains(message, error.Reason);
    }
}
