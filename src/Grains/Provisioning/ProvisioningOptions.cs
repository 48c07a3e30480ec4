using System.ComponentModel.DataAnnotations;

namespace CloudDevEnv.Grains.Provisioning;

/// <summary>How workspaces are provisioned, bound from the <c>Provisioning</c> configuration section.</summary>
public sealed class ProvisioningOptions
{
    public const string SectionName = "Provisioning";

    /// <summary>The user the clone, hooks and IDE run as in the fallback image when devcontainer.json names none
    /// (the image declares it as remoteUser in its devcontainer.metadata label).</summary>
    [Required]
    public string FallbackImageUser { get; set; } = "vscode";

    /// <summary>The repository of images built from devcontainer.json Dockerfiles: <c>&lt;prefix&gt;/&lt;hash&gt;</c>.</summary>
    [Required, RegularExpression("^[a-z0-9]+([._/-][a-z0-9]+)*$")]
    public string BuildImagePrefix { get; set; } = "clouddevenv/build";

    /// <summary>What start-up reconciliation does with labelled containers no workspace claims.</summary>
    public OrphanPolicy OrphanPolicy { get; set; } = OrphanPolicy.Remove;

    /// <summary>Reconciliation considers only workspace ids starting with this (empty: all). Set it when several
    /// platforms (or test runs) share one engine, so that none removes the others' containers.</summary>
    public string ReconcileIdPrefix { get; set; } = string.Empty;

    /// <summary>How many lines of a failed hook's output the failure reason keeps.</summary>
    [Range(1, 200)]
    public int FailureTailLines { get; set; } = 20;
}

/// <summary>What start-up reconciliation does with a labelled container whose workspace is deleted or unknown.
/// Containers a workspace still claims are always adopted: their grain is activated and reconciles them.</summary>
public enum OrphanPolicy
{
    /// <summary>Remove the container and its volumes.</summary>
    Remove = 0,
    /// <summary>Leave it, logging it, for an operator to look at.</summary>
    Ignore = 1,
}
