using System.Diagnostics;

namespace CloudDevEnv.Workspaces.Docker.Tests;

/// <summary>A small Git repository made on disk for one test: <c>git init</c>, files, commits.</summary>
public sealed class TestRepository
{
    private TestRepository(string path) => Path = path;

    public string Path { get; }

    public string Url => "file://" + Path;

    public static TestRepository Create(string root, string name)
    {
        var path = System.IO.Path.Combine(root, name);
        Directory.CreateDirectory(path);
        var repository = new TestRepository(path);
        repository.Git("init", "--quiet", "--initial-branch=main");
        repository.Git("config", "user.email", "tests@clouddevenv.dev");
        repository.Git("config", "user.name", "CloudDevEnv tests");
        repository.Git("config", "commit.gpgsign", "false");
        return repository;
    }

    public TestRepository Write(string relativePath, string content)
    {
        var file = System.IO.Path.Combine(Path, relativePath);
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(file)!);
        File.WriteAllText(file, content);
        return this;
    }

    /// <summary>Commits everything; returns the commit id.</summary>
    public string Commit(string message)
    {
        Git("add", "-A");
        Git("commit", "--quiet", "--allow-empty", "-m", message);
        return Git("rev-parse", "HEAD").Trim();
    }

    public string Git(params string[] args)
    {
        var info = new ProcessStartInfo("git") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = Path };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }

        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEnd();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"git {string.Join(' ', args)} failed ({process.ExitCode}): {error}");
        }

        return output;
    }
}
