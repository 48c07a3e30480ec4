using System.Net;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Runtime.Docker;

/// <summary>Validates <see cref="DockerRuntimeOptions"/> at start-up (and when the runtime is constructed directly).</summary>
public sealed partial class DockerRuntimeOptionsValidator : IValidateOptions<DockerRuntimeOptions>
{
    private static readonly string[] EndpointSchemes = ["unix", "tcp", "http", "https", "npipe"];

    public ValidateOptionsResult Validate(string? name, DockerRuntimeOptions options)
    {
        var errors = Errors(options).ToList();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>Throws <see cref="OptionsValidationException"/> listing every problem.</summary>
    public static void ThrowIfInvalid(DockerRuntimeOptions options)
    {
        var errors = Errors(options).ToList();
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(DockerRuntimeOptions), errors);
        }
    }

    private static IEnumerable<string> Errors(DockerRuntimeOptions o)
    {
        const string S = DockerRuntimeOptions.SectionName;
        var endpoint = o.ResolveEndpoint();
        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) || !EndpointSchemes.Contains(uri.Scheme))
        {
            yield return $"{S}:Endpoint (or DOCKER_HOST) '{endpoint}' is not a Docker endpoint such as unix:///var/run/docker.sock or tcp://host:2375.";
        }

        if (!string.IsNullOrWhiteSpace(o.ApiVersion) && !System.Version.TryParse(o.ApiVersion, out _))
        {
            yield return $"{S}:ApiVersion '{o.ApiVersion}' is not a version such as 1.41.";
        }

        if (!IPAddress.TryParse(o.PublishAddress, out var publish))
        {
            yield return $"{S}:PublishAddress '{o.PublishAddress}' is not an IP address.";
        }
        else if (!IPAddress.IsLoopback(publish) && !o.AllowNonLoopbackPublish)
        {
            yield return $"{S}:PublishAddress '{o.PublishAddress}' would expose workspace ports beyond this host; " +
                         $"set {S}:AllowNonLoopbackPublish=true to allow it.";
        }

        if (!string.IsNullOrWhiteSpace(o.EndpointHost) && Uri.CheckHostName(o.EndpointHost.Trim('[', ']')) == UriHostNameType.Unknown)
        {
            yield return $"{S}:EndpointHost '{o.EndpointHost}' is not a host name or address.";
        }

        var source = o.IdeBundleSource?.Trim() ?? "";
        if (source.Length == 0)
        {
            yield return $"{S}:IdeBundleSource is empty: give a docker volume name, an absolute host folder, or \"none\".";
        }
        else if (!string.Equals(source, "none", StringComparison.OrdinalIgnoreCase) && !source.StartsWith('/') && !VolumeName().IsMatch(source))
        {
            yield return $"{S}:IdeBundleSource '{source}' is neither a docker volume name nor an absolute host folder.";
        }

        if (!IsAbsoluteContainerPath(o.IdeBundleTarget))
        {
            yield return $"{S}:IdeBundleTarget '{o.IdeBundleTarget}' is not an absolute path.";
        }

        if (!IsAbsoluteContainerPath(o.WorkspacesPath) || o.WorkspacesPath.TrimEnd('/').Length == 0)
        {
            yield return $"{S}:WorkspacesPath '{o.WorkspacesPath}' is not an absolute path below /.";
        }

        if (!IsAbsoluteContainerPath(o.HomePath) || o.HomePath.TrimEnd('/').Length == 0 || o.HomePath.TrimEnd('/') == o.WorkspacesPath.TrimEnd('/'))
        {
            yield return $"{S}:HomePath '{o.HomePath}' is not an absolute path below / apart from WorkspacesPath.";
        }

        if (o.DefaultStopGrace < TimeSpan.Zero || o.DefaultStopGrace > TimeSpan.FromMinutes(10))
        {
            yield return $"{S}:DefaultStopGrace {o.DefaultStopGrace} is outside 0 to 10 minutes.";
        }

        if (string.IsNullOrEmpty(o.NamePrefix) || !NamePrefix().IsMatch(o.NamePrefix) || o.NamePrefix.Length > 32)
        {
            yield return $"{S}:NamePrefix '{o.NamePrefix}' must start with a lower-case letter or digit, hold only [a-z0-9_.-] and be at most 32 characters.";
        }

        if (o.Capabilities is { } caps)
        {
            foreach (var cap in caps.Where(c => string.IsNullOrWhiteSpace(c) || !Capability().IsMatch(c)))
            {
                yield return $"{S}:Capabilities holds '{cap}', which is not a capability name such as CHOWN.";
            }

            if (caps.Any(c => c.Trim().Equals("ALL", StringComparison.OrdinalIgnoreCase) || c.Trim().EndsWith("SYS_ADMIN", StringComparison.OrdinalIgnoreCase)))
            {
                yield return $"{S}:Capabilities must not grant ALL or SYS_ADMIN: workspaces are never privileged.";
            }
        }

        if (o.KeepAliveCommand is { Length: 0 })
        {
            yield return $"{S}:KeepAliveCommand is empty.";
        }

        if (o.PidsLimit < 0)
        {
            yield return $"{S}:PidsLimit must be 0 (no limit) or positive.";
        }

        if (o.ProbeTimeout <= TimeSpan.Zero || o.ProbeTimeout > TimeSpan.FromMinutes(1))
        {
            yield return $"{S}:ProbeTimeout {o.ProbeTimeout} is outside (0, 1 minute].";
        }

        if (o.RequestTimeout <= TimeSpan.Zero)
        {
            yield return $"{S}:RequestTimeout must be positive.";
        }
    }

    private static bool IsAbsoluteContainerPath(string? path) =>
        !string.IsNullOrWhiteSpace(path) && path.StartsWith('/') && !path.Contains("..", StringComparison.Ordinal);

    [GeneratedRegex("^[a-zA-Z0-9][a-zA-Z0-9_.-]*$")]
    private static partial Regex VolumeName();

    [GeneratedRegex("^[a-z0-9][a-z0-9_.-]*$")]
    private static partial Regex NamePrefix();

    [GeneratedRegex("^(CAP_)?[A-Za-z_]+$")]
    private static partial Regex Capability();
}
