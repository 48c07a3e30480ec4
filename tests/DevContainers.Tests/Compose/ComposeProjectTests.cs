using CloudDevEnv.DevContainers.Compose;
using Xunit;

namespace CloudDevEnv.DevContainers.Tests.Compose;

/// <summary>Compose files read as Docker Compose reads them, then held to the platform's policy.</summary>
public sealed class ComposeProjectTests
{
    private static (DevContainerConfig Config, ComposeProject Project) Load(TestRepository repo, DevContainerPolicy? policy = null)
    {
        var config = repo.Load();
        return (config, ComposeProject.Load(config.Compose!, repo.Folder, policy ?? DevContainerPolicy.Lenient));
    }

    [Fact]
    public void The_app_and_database_template_reads_as_compose_reads_it()
    {
        using var repo = ComposeTemplates.AppAndDatabase(new TestRepository());
        var (config, project) = Load(repo);

        Assert.Equal("app", config.Compose!.Service);
        Assert.Equal([repo.PathOf(".devcontainer/docker-compose.yml")], config.Compose.Files);
        Assert.Null(config.Compose.RunServices);
        Assert.Equal(["app", "db"], project.Services.Keys.Order(StringComparer.Ordinal));

        var app = project.Services["app"];
        Assert.Equal(repo.Folder, app.Build!.ContextPath);
        Assert.Equal(".devcontainer/Dockerfile", app.Build.DockerfileInContext);
        Assert.Equal("3.12", app.Build.Args["VARIANT"]);
        Assert.Equal(["sleep", "infinity"], app.Command);
        // The merge key, the default of an unset variable, the .env file's export, env_file under environment.
        Assert.Equal("C.UTF-8", app.Environment["LANG"]);
        Assert.Equal("postgres://postgres:postgres@localhost:5432/app", app.Environment["DATABASE_URL"]);
        Assert.Equal("8000", app.Environment["PORT"]);
        Assert.Equal("yes", app.Environment["FROM_ENV_FILE"]);
        Assert.Equal([new ComposeDependency("db", "service_healthy")], app.DependsOn);
        var checkout = Assert.Single(app.Mounts);
        Assert.Equal((ComposeMountType.Checkout, "/workspaces"), (checkout.Type, checkout.Target));

        var db = project.Services["db"];
        Assert.Equal("postgres:16", db.Image);
        Assert.Equal("unless-stopped", db.Restart);
        Assert.Equal(["CMD-SHELL", "pg_isready -U postgres"], db.Healthcheck!.Test);
        Assert.Equal((TimeSpan.FromSeconds(5), TimeSpan.FromSeconds(3), 5), (db.Healthcheck.Interval!.Value, db.Healthcheck.Timeout!.Value, db.Healthcheck.Retries!.Value));
        Assert.Equal(
            [new ComposeMount(ComposeMountType.Volume, "postgres-data", "/var/lib/postgresql/data", false),
             new ComposeMount(ComposeMountType.Repository, repo.PathOf(".devcontainer/init.sql"), "/docker-entrypoint-initdb.d/init.sql", true)],
            db.Mounts);
        Assert.False(db.Environment.ContainsKey("POSTGRES_USER"));

        // Read and not applied, each in words: the bare variable, the published port, the shared network.
        Assert.Contains(project.NotApplied, n => n.Contains("services.db.environment.POSTGRES_USER: no value given", StringComparison.Ordinal));
        Assert.Contains(project.NotApplied, n => n.StartsWith("services.db.ports: not published", StringComparison.Ordinal));
        Assert.Contains(project.NotApplied, n => n.StartsWith("services.app.network_mode: the services share", StringComparison.Ordinal));
        Assert.Empty(project.LeftOut);
    }

    [Fact]
    public void Later_files_override_earlier_ones_and_extends_takes_the_base_service()
    {
        using var repo = ComposeTemplates.ExistingComposeExtended(new TestRepository());
        var (config, project) = Load(repo);

        Assert.Equal(["web", "cache"], config.Compose!.RunServices);
        var web = project.Services["web"];
        Assert.Equal(["/bin/sh", "-c", "while sleep 1000; do :; done"], web.Command);
        Assert.Equal("development", web.Environment["NODE_ENV"]);
        Assert.Equal("redis://cache:6379", web.Environment["REDIS_URL"]);
        Assert.Equal("UTC", web.Environment["TZ"]);
        Assert.Equal(ComposeMountType.Checkout, Assert.Single(web.Mounts).Type);
        Assert.Equal((repo.Folder, "Dockerfile"), (web.Build!.ContextPath, web.Build.DockerfileInContext));
        Assert.Equal(["redis-server", "--save", "", "--appendonly", "no"], project.Services["cache"].Command);
        Assert.Equal(["node", "worker.js"], project.Services["worker"].Command);
        Assert.Equal("production", project.Services["worker"].Environment["NODE_ENV"]);
    }

    [Fact]
    public void Settings_outside_the_policy_are_left_out_and_named_and_a_strict_policy_refuses_them()
    {
        using var repo = new TestRepository();
        repo.With(".devcontainer/devcontainer.json", """{ "dockerComposeFile": "compose.yaml", "service": "app" }""")
            .With(".devcontainer/compose.yaml", """
                services:
                  app:
                    image: debian
                    privileged: true
                    cap_add: [SYS_PTRACE, SYS_ADMIN]
                    security_opt: ["seccomp:unconfined", "no-new-privileges:true"]
                    volumes:
                      - /var/run/docker.sock:/var/run/docker.sock
                      - ~/.ssh:/home/vscode/.ssh:ro
                      - ../../../etc:/host-etc
                    env_file: /etc/environment
                    pid: host
                    network_mode: host
                    devices: ["/dev/kvm:/dev/kvm"]
                    deploy:
                      resources:
                        reservations:
                          devices: [{ driver: nvidia, count: all, capabilities: [gpu] }]
                """);

        var (_, project) = Load(repo);
        var app = project.Services["app"];
        Assert.Equal(["SYS_PTRACE"], app.CapAdd);
        Assert.Empty(app.SecurityOptions);
        Assert.Empty(app.Mounts);
        var left = project.LeftOut.Select(l => l.ToString()).ToList();
        Assert.Contains(".devcontainer/compose.yaml services.app.privileged: true was left out: it gives the container full control of the host", left);
        Assert.Contains(".devcontainer/compose.yaml services.app.cap_add: 'SYS_ADMIN' was left out: it allows mounting file systems and other ways out of the container", left);
        Assert.Contains(".devcontainer/compose.yaml services.app.security_opt: 'seccomp:unconfined' was left out: it turns off the seccomp system call filter", left);
        Assert.Contains(".devcontainer/compose.yaml services.app.volumes: '/var/run/docker.sock:/var/run/docker.sock' was left out: it bind-mounts a host path (use a named volume)", left);
        Assert.Contains(left, l => l.Contains("'~/.ssh:/home/vscode/.ssh'", StringComparison.Ordinal));
        Assert.Contains(left, l => l.Contains("'../../../etc:/host-etc'", StringComparison.Ordinal));
        Assert.Contains(left, l => l.Contains("env_file: '/etc/environment' was left out: it reads a file on the host", StringComparison.Ordinal));
        Assert.Contains(left, l => l.Contains("pid: host was left out: it shares the host's process namespace", StringComparison.Ordinal));
        Assert.Contains(left, l => l.Contains("network_mode: host was left out", StringComparison.Ordinal));
        Assert.Contains(left, l => l.Contains("services.app.devices was left out: it gives the container access to host devices", StringComparison.Ordinal));
        Assert.Contains(left, l => l.Contains("deploy.resources.reservations.devices was left out", StringComparison.Ordinal));

        var operatorAllows = DevContainerPolicy.Lenient with { AllowedSecurityOptions = new HashSet<string> { "seccomp=unconfined" }, AllowedCapabilities = new HashSet<string> { "SYS_ADMIN" } };
        var (_, allowed) = Load(repo, operatorAllows);
        Assert.Equal(["SYS_PTRACE", "SYS_ADMIN"], allowed.Services["app"].CapAdd);
        Assert.Equal(["seccomp=unconfined"], allowed.Services["app"].SecurityOptions);

        var refused = Assert.Throws<ComposeFileException>(() => Load(repo, DevContainerPolicy.Strict));
        Assert.Equal(".devcontainer/compose.yaml: services.app.privileged: true is not allowed: it gives the container full control of the host", refused.Message);
    }

    [Theory]
    [InlineData("services:\n  app:\n    image: [unclosed\n", ": line 4: While parsing")]
    [InlineData("services:\n  app:\n    image: debian\n    build: ../../../\n", "services.app.build: the build context '../../../' is not a folder in the repository")]
    [InlineData("services:\n  app:\n    image: debian\n    build: https://example.invalid/repo.git\n", "a remote build context")]
    [InlineData("services:\n  app:\n    image: ${IMAGE:?name the image}\n", "the variable IMAGE must be set: name the image")]
    [InlineData("services:\n  app:\n    image: debian\n    depends_on: [nowhere]\n", "services.app.depends_on names 'nowhere', which is not a service")]
    [InlineData("services:\n  app:\n    extends: { service: base, file: /etc/compose.yml }\n", "is not a file in the repository")]
    [InlineData("services:\n  app:\n    image: debian\n    healthcheck: { test: true, interval: soon }\n", "services.app.healthcheck.interval 'soon' is not a duration")]
    [InlineData("- a list\n", "a compose file is a mapping")]
    public void A_file_compose_would_refuse_is_refused_with_where_and_why(string compose, string message)
    {
        using var repo = new TestRepository();
        repo.With(".devcontainer/devcontainer.json", """{ "dockerComposeFile": "compose.yaml", "service": "app" }""")
            .With(".devcontainer/compose.yaml", compose);

        var error = Assert.Throws<ComposeFileException>(() => Load(repo));
        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.StartsWith(".devcontainer/compose.yaml", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_alias_bomb_is_refused_not_expanded()
    {
        var bomb = new System.Text.StringBuilder("x-a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (var level = 'b'; level <= 'i'; level++)
        {
            var previous = (char)(level - 1);
            bomb.Append($"x-{level}: &{level} [*{previous},*{previous},*{previous},*{previous},*{previous},*{previous},*{previous},*{previous},*{previous}]\n");
        }

        bomb.Append("services:\n  app:\n    image: debian\n    command: *i\n");
        using var repo = new TestRepository();
        repo.With(".devcontainer/devcontainer.json", """{ "dockerComposeFile": "compose.yaml", "service": "app" }""")
            .With(".devcontainer/compose.yaml", bomb.ToString());

        var watch = System.Diagnostics.Stopwatch.StartNew();
        var error = Assert.Throws<ComposeFileException>(() => Load(repo));
        Assert.Contains("more than 50000 values once its aliases are followed", error.Message, StringComparison.Ordinal);
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"refusing took {watch.Elapsed}");
    }

    [Fact]
    public void The_platforms_environment_is_never_read()
    {
        using var repo = new TestRepository();
        repo.With(".devcontainer/devcontainer.json", """{ "dockerComposeFile": "compose.yaml", "service": "app" }""")
            .With(".devcontainer/compose.yaml", "services:\n  app:\n    image: debian\n    environment:\n      STOLEN: ${HOME}-${PATH}\n");

        var (_, project) = Load(repo);
        Assert.Equal("-", project.Services["app"].Environment["STOLEN"]);
        Assert.Contains(project.NotApplied, n => n.Contains("the variable HOME is set nowhere", StringComparison.Ordinal));
    }
}
