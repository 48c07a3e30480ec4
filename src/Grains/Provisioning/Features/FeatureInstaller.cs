using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using CloudDevEnv.DevContainers;
using CloudDevEnv.DevContainers.Features;
using CloudDevEnv.Grains.Workspaces;

namespace CloudDevEnv.Grains.Provisioning.Features;

/// <summary>Installs a configuration's <c>features</c> as the reference CLI does: each fetched (its <c>dependsOn</c>
/// too), ordered, and installed by building a derived image of the base on the engine (its output streamed), cached by
/// the base image's id and the features' content and options, so that a second launch builds nothing. The derived
/// image is its owner's, like any build from a repository (it may hold what their base held).</summary>
public sealed partial class FeatureInstaller(
    IWorkspaceRuntime runtime,
    FeatureFetcher fetcher,
    IOptions<ProvisioningOptions> provisioning,
    IOptions<DevContainerPolicyOptions> policy,
    ILogger<FeatureInstaller> logger)
{
    /// <summary>At most this many features with their dependencies: real configurations have a handful.</summary>
    private const int MaxFeatures = 32;

    public sealed record Installed(PreparedImage Image, IReadOnlyList<ResolvedFeature> Features, IReadOnlyList<string> Notes);

    /// <param name="baseImage">The prepared base image (the configuration's image, or its built Dockerfile).</param>
    /// <param name="remoteUser">The user the tools run as (<c>_REMOTE_USER</c> for the features); null: the container's.</param>
    /// <param name="containerUser">The user the container runs as (<c>_CONTAINER_USER</c>); null: the image's, else root.</param>
    public async Task<Installed> InstallAsync(
        string owner, DevContainerConfig config, string baseImage, string? remoteUser, string? containerUser, IProgress<string> log, CancellationToken cancellationToken)
    {
        var scratch = Directory.CreateTempSubdirectory("cde-features-").FullName;
        try
        {
            var features = await ResolveAsync(config, scratch, log, cancellationToken);
            var overrideOrder = config.AdditionalProperties.TryGetValue("overrideFeatureInstallOrder", out var order) && order.ValueKind == JsonValueKind.Array
                ? order.EnumerateArray().Where(e => e.ValueKind == JsonValueKind.String).Select(e => e.GetString()!).ToList()
                : [];
            IReadOnlyList<ResolvedFeature> ordered;
            try
            {
                ordered = FeatureInstallOrder.Order(features, f => f.Reference, f => f.Definition, overrideOrder);
            }
            catch (InvalidOperationException e)
            {
                throw new WorkspaceFailure($"The features of {config.Location.RelativePath} cannot be installed: {e.Message}.", keepInstanceRunning: false);
            }

            var baseInfo = await runtime.InspectImageAsync(baseImage, cancellationToken)
                ?? throw new WorkspaceRuntimeException($"The base image {baseImage} is gone before its features could be installed.", isPermanent: false);
            var context = Path.Combine(scratch, "context");
            Directory.CreateDirectory(context);
            string dockerfile;
            try
            {
                var container = containerUser ?? baseInfo.User ?? "root";
                dockerfile = FeatureImageRecipe.Write(context, baseImage, baseInfo.User, remoteUser ?? container, container, ordered,
                    baseInfo.Labels.GetValueOrDefault(FeatureImageRecipe.MetadataLabel));
            }
            catch (InvalidOperationException e)
            {
                throw new WorkspaceFailure($"The features of {config.Location.RelativePath} cannot be installed: {e.Message}.", keepInstanceRunning: false);
            }

            var tag = ImagePolicy.BuildTag(provisioning.Value, owner, CacheKey(baseInfo.Id ?? baseImage, dockerfile, ordered));
            log.Report($"Installing the features {string.Join(", ", ordered.Select(f => f.Reference.Written))} into {tag}.");
            var prepared = await runtime.PrepareImageAsync(new ImageRequest(tag, new ImageBuild(context, "Dockerfile", new Dictionary<string, string>(), null)), log, cancellationToken);
            List<string> notes =
            [
                $"features installed, in order: {string.Join(", ", ordered.Select(f => f.Definition.Version is { } v ? $"{f.Reference.Written} ({f.Definition.Id} {v})" : f.Reference.Written))}",
                .. ordered.SelectMany(f => f.Definition.LeftOut.Select(l => $"the feature {f.Reference.Written}: {l}")),
            ];
            LogInstalled(prepared.Image, ordered.Count, prepared.Built);
            return new Installed(prepared, ordered, notes);
        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (IOException e)
            {
                LogScratchLeft(e, scratch);
            }
        }
    }

    /// <summary>The configuration's features and, transitively, those they depend on, each fetched once.</summary>
    private async Task<List<ResolvedFeature>> ResolveAsync(DevContainerConfig config, string scratch, IProgress<string> log, CancellationToken cancellationToken)
    {
        var features = new Dictionary<string, ResolvedFeature>(StringComparer.Ordinal);
        var queue = new Queue<(string Written, JsonElement Options)>(config.Features.Select(kv => (kv.Key, kv.Value)));
        var devContainerPolicy = policy.Value.ToPolicy();
        while (queue.TryDequeue(out var next))
        {
            FeatureReference reference;
            try
            {
                reference = FeatureReference.Parse(next.Written);
            }
            catch (FormatException e)
            {
                throw new WorkspaceFailure($"{config.Location.RelativePath}: {e.Message}.", keepInstanceRunning: false);
            }

            if (features.ContainsKey(reference.Key))
            {
                continue;
            }

            if (features.Count >= MaxFeatures)
            {
                throw new WorkspaceFailure($"{config.Location.RelativePath} asks for more than {MaxFeatures} features (with their dependencies).", keepInstanceRunning: false);
            }

            log.Report($"Fetching the feature {reference.Written}.");
            var folder = Path.Combine(scratch, $"f{features.Count}");
            var digest = await fetcher.FetchAsync(reference, config.Location.ConfigFolder, folder, cancellationToken);
            FeatureDefinition definition;
            try
            {
                definition = FeatureDefinition.Parse(
                    await File.ReadAllTextAsync(Path.Combine(folder, "devcontainer-feature.json"), cancellationToken),
                    $"{reference.Written}: devcontainer-feature.json",
                    devContainerPolicy);
            }
            catch (DevContainerConfigException e)
            {
                throw new WorkspaceFailure($"The feature {reference.Written} cannot be installed: {e.Message}", keepInstanceRunning: false);
            }

            features[reference.Key] = new ResolvedFeature(reference, definition, next.Options, folder, digest);
            foreach (var (dependency, options) in definition.DependsOn)
            {
                queue.Enqueue((dependency, options));
            }
        }

        return [.. features.Values];
    }

    private static string CacheKey(string baseId, string dockerfile, IReadOnlyList<ResolvedFeature> features)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var part in new[] { "features-v1", baseId, dockerfile }.Concat(features.Select(f => f.Digest + "|" + f.Options.GetRawText())))
        {
            hash.AppendData(Encoding.UTF8.GetBytes(part));
            hash.AppendData([0]);
        }

        return Convert.ToHexStringLower(hash.GetHashAndReset())[..20];
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Features: image {Image} with {Count} feature(s) (built now: {Built})")]
    private partial void LogInstalled(string image, int count, bool built);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Features: the scratch folder {Folder} could not be removed")]
    private partial void LogScratchLeft(Exception exception, string folder);
}
