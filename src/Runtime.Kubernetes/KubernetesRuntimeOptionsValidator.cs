using System.Text.RegularExpressions;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Runtime.Kubernetes;

/// <summary>Validates <see cref="KubernetesRuntimeOptions"/> at start-up (and when the runtime is constructed directly).</summary>
public sealed partial class KubernetesRuntimeOptionsValidator : IValidateOptions<KubernetesRuntimeOptions>
{
    public ValidateOptionsResult Validate(string? name, KubernetesRuntimeOptions options)
    {
        var errors = Errors(options).ToList();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    public static void ThrowIfInvalid(KubernetesRuntimeOptions options)
    {
        var errors = Errors(options).ToList();
        if (errors.Count > 0)
        {
            throw new OptionsValidationException(Options.DefaultName, typeof(KubernetesRuntimeOptions), errors);
        }
    }

    private static IEnumerable<string> Errors(KubernetesRuntimeOptions o)
    {
        const string S = KubernetesRuntimeOptions.SectionName;
        if (!DnsLabel().IsMatch(o.Namespace ?? ""))
        {
            yield return $"{S}:Namespace '{o.Namespace}' is not a namespace name (a DNS label).";
        }

        if (!Prefix().IsMatch(o.NamePrefix ?? ""))
        {
            yield return $"{S}:NamePrefix '{o.NamePrefix}' is not 1 to 16 lower-case letters, digits or '-', starting with a letter.";
        }

        if (!string.IsNullOrEmpty(o.Installation) && !LabelValue().IsMatch(o.Installation))
        {
            yield return $"{S}:Installation '{o.Installation}' is not a label value (at most 63 letters, digits, '-', '_', '.').";
        }

        foreach (var (key, value) in new[] { ("WorkspacesStorage", o.WorkspacesStorage), ("HomeStorage", o.HomeStorage), ("TmpStorage", o.TmpStorage) })
        {
            if (!Quantity().IsMatch(value ?? ""))
            {
                yield return $"{S}:{key} '{value}' is not a storage quantity such as 10Gi.";
            }
        }

        if (string.IsNullOrWhiteSpace(o.IdeBundleClaim) || !DnsLabel().IsMatch(o.IdeBundleClaim))
        {
            yield return $"{S}:IdeBundleClaim '{o.IdeBundleClaim}' is not a PVC name.";
        }

        foreach (var (key, path) in new[] { ("IdeBundleTarget", o.IdeBundleTarget), ("WorkspacesPath", o.WorkspacesPath), ("HomePath", o.HomePath) })
        {
            if (string.IsNullOrWhiteSpace(path) || !path.StartsWith('/'))
            {
                yield return $"{S}:{key} '{path}' is not an absolute path.";
            }
            else if (path.IndexOfAny(['\'', '"', '\\', '$', '`', '\n']) >= 0)
            {
                // The paths go into the shell script that prepares a new pod's volumes.
                yield return $"{S}:{key} '{path}' has a quote, a backslash, a $, a backtick or a line break.";
            }
        }

        if (o.RequestFraction is <= 0 or > 1)
        {
            yield return $"{S}:RequestFraction {o.RequestFraction} is not in (0, 1].";
        }

        foreach (var (key, span) in new[] { ("StartTimeout", o.StartTimeout), ("RequestTimeout", o.RequestTimeout), ("ProbeTimeout", o.ProbeTimeout) })
        {
            if (span <= TimeSpan.Zero)
            {
                yield return $"{S}:{key} must be positive.";
            }
        }

        if (!string.IsNullOrEmpty(o.Kubeconfig) && !File.Exists(o.Kubeconfig))
        {
            yield return $"{S}:Kubeconfig '{o.Kubeconfig}' does not exist.";
        }
    }

    [GeneratedRegex("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")]
    private static partial Regex DnsLabel();

    [GeneratedRegex("^[a-z][a-z0-9-]{0,15}$")]
    private static partial Regex Prefix();

    [GeneratedRegex("^([A-Za-z0-9]([A-Za-z0-9_.-]{0,61}[A-Za-z0-9])?)?$")]
    private static partial Regex LabelValue();

    [GeneratedRegex("^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$")]
    internal static partial Regex Quantity();
}
