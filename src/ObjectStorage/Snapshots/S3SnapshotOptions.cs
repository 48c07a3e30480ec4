using System.ComponentModel.DataAnnotations;

namespace CloudDevEnv.ObjectStorage.Snapshots;

/// <summary>The S3-compatible snapshot store (AWS S3, MinIO, Ceph RGW, Garage, …), bound from <c>Snapshots:S3</c>.
/// Validated when the host starts (<see cref="S3SnapshotOptionsValidator"/>), each failure naming its key.</summary>
public sealed class S3SnapshotOptions
{
    public const string SectionName = "Snapshots:S3";

    public const int MiB = 1024 * 1024;

    /// <summary>S3 refuses parts below 5 MiB (all but the last).</summary>
    public const int MinPartSizeBytes = 5 * MiB;

    public const int MaxPartSizeBytes = 512 * MiB;

    /// <summary>The endpoint, an absolute http or https URL (<c>https://s3.eu-west-1.amazonaws.com</c>,
    /// <c>http://minio.storage:9000</c>).</summary>
    [Required(ErrorMessage = SectionName + ":" + nameof(ServiceUrl) + " is required.")]
    public string ServiceUrl { get; set; } = "";

    /// <summary>The bucket that holds the snapshots; it must exist unless <see cref="CreateBucket"/>.</summary>
    [Required(ErrorMessage = SectionName + ":" + nameof(Bucket) + " is required.")]
    public string Bucket { get; set; } = "";

    /// <summary>Put before every key: <c>&lt;Prefix&gt;&lt;workspace id&gt;/…</c>. Empty, or ending with '/'.</summary>
    public string Prefix { get; set; } = "snapshots/";

    /// <summary>The region requests are signed for; S3-compatible servers mostly accept the default.</summary>
    [Required(ErrorMessage = SectionName + ":" + nameof(Region) + " is required.")]
    public string Region { get; set; } = "us-east-1";

    [Required(ErrorMessage = SectionName + ":" + nameof(AccessKey) + " is required.")]
    public string AccessKey { get; set; } = "";

    [Required(ErrorMessage = SectionName + ":" + nameof(SecretKey) + " is required.")]
    public string SecretKey { get; set; } = "";

    /// <summary>Path-style addressing (<c>&lt;url&gt;/&lt;bucket&gt;/&lt;key&gt;</c>), which MinIO and most self-hosted servers
    /// need; false for virtual-hosted style (<c>&lt;bucket&gt;.&lt;host&gt;</c>).</summary>
    public bool ForcePathStyle { get; set; } = true;

    /// <summary>The size of each part of the multipart upload, and of the one buffer a save holds in memory. With S3's
    /// 10,000 parts, the largest snapshot is 10,000 × this (156 GiB at the default 16 MiB).</summary>
    [Range(MinPartSizeBytes, MaxPartSizeBytes, ErrorMessage = SectionName + ":" + nameof(PartSizeBytes) + " must be between {1} (5 MiB, S3's smallest part) and {2} (512 MiB).")]
    public int PartSizeBytes { get; set; } = 16 * MiB;

    /// <summary>Snapshots kept per workspace, newest first (as the local store's <c>Snapshots:Keep</c>).</summary>
    [Range(1, 100, ErrorMessage = SectionName + ":" + nameof(Keep) + " must be between {1} and {2}.")]
    public int Keep { get; set; } = 3;

    /// <summary>Creates the bucket at start-up when it does not exist. Off by default: in production the bucket, its
    /// access policy and lifecycle rules are the operator's.</summary>
    public bool CreateBucket { get; set; }
}
