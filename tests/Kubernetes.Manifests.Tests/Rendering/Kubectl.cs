using System.Diagnostics;

namespace CloudDevEnv.Kubernetes.Manifests.Tests.Rendering;

/// <summary>The <c>kubectl</c> that renders the overlays: <c>$KUBECTL</c> when set (to render with another build, e.g.
/// Debian's kubectl 1.20 with its kustomize 2.0.3, unpacked beside a newer one), else the first on PATH.</summary>
internal static class Kubectl
{
    public static string Locate(string? overridePath, string? pathVariable)
    {
        if (!string.IsNullOrEmpty(overridePath))
        {
            return File.Exists(overridePath)
                ? overridePath
                : throw new InvalidOperationException($"KUBECTL names {overridePath}, which does not exist.");
        }

        foreach (var folder in (pathVariable ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, "kubectl");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new InvalidOperationException(
            "No kubectl on PATH: the manifest tests render k8s/overlays/* with `kubectl kustomize`. " +
            "Install Debian's kubernetes-client (bash scripts/install-test-packages.sh does), or set KUBECTL to a kubectl binary.");
    }

    /// <summary>The output of <c>kubectl kustomize &lt;folder&gt;</c>; fails with kubectl's own words when it fails.</summary>
    public static string Kustomize(string folder)
    {
        var kubectl = Locate(Environment.GetEnvironmentVariable("KUBECTL"), Environment.GetEnvironmentVariable("PATH"));
        var start = new ProcessStartInfo(kubectl)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("kustomize");
        start.ArgumentList.Add(folder);
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{kubectl} did not start.");
        var output = process.StandardOutput.ReadToEndAsync();
        var errors = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(1)))
        {
            process.Kill();
            throw new TimeoutException($"{kubectl} kustomize {folder} took over a minute.");
        }

        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{kubectl} kustomize {folder} exited with {process.ExitCode}: {errors.Result}");
        }

        return output.Result;
    }
}
