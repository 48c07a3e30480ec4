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

    /// <summary>The image of the prepare container that clones a repository (to read its devcontainer.json, and to copy a
    /// file:// repository's clone into the workspace); it needs
    /// <c>sh</c> and <c>git</c>. Empty: <c>Workspaces:FallbackImage</c>. Key <c>Provisioning:PrepareImage</c>
    /// (e.g. <c>clouddevenv/base:&lt;version&gt;</c>, the smallest image with git).</summary>
    public string PrepareImage { get; set; } = string.Empty;

    /// <summary>The largest checkout (its tar: files, <c>.git</c> included) brought out of the prepare container;
    /// a bigger repository fails the launch with a message naming this key, <c>Provisioning:MaxCheckoutBytes</c>.</summary>
    [Range(1024, long.MaxValue)]
    public long MaxCheckoutBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>How long reading a repository in the prepare container may take, clone and copy together.
    /// Key <c>Provisioning:PrepareTimeout</c>.</summary>
    [Range(typeof(TimeSpan), "00:00:05", "01:00:00")]
    public TimeSpan PrepareTimeout { get; set; } = TimeSpan.FromMinutes(3);

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
