using System.Security.Cryptography;
using System.Text.Json;
using Microsoft.Extensions.Primitives;

namespace CloudDevEnv.Api.Workspaces;

/// <summary>A workspace's entity tag: a hash of its representation as the API sends it, so that anything a reader
/// could see change (phase, activity, an event) changes it. Strong, so that If-Match may compare it (RFC 9110 §13.1.1).</summary>
internal static class WorkspaceETag
{
    public static string Of(WorkspaceResource resource, JsonSerializerOptions options) =>
        $"\"{Convert.ToHexStringLower(SHA256.HashData(JsonSerializer.SerializeToUtf8Bytes(resource, options)))[..24]}\"";

    /// <summary>True when the If-Match or If-None-Match <paramref name="header"/> names <paramref name="etag"/> or is *.</summary>
    public static bool Listed(StringValues header, string etag) =>
        header.SelectMany(v => (v ?? string.Empty).Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
            .Any(tag => tag == "*" || tag == etag);
}
