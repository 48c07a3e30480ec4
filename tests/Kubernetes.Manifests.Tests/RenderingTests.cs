namespace CloudDevEnv.Kubernetes.Manifests.Tests;

public sealed class RenderingTests
{
    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Each_overlay_renders_and_every_document_parses_strictly(string overlay)
    {
        var rendered = RenderedOverlay.Of(overlay);

        Assert.NotEmpty(rendered.Objects);
        Assert.Equal(3, rendered.Workloads.Count);
        Assert.All(rendered.Objects, o => Assert.False(string.IsNullOrEmpty(o.Metadata.Name), $"a {o.Kind} without a name"));
    }

    [Fact]
    public void Strict_parsing_refuses_a_field_the_model_does_not_have()
    {
        // What a typo in a manifest looks like: kubectl apply would reject or drop it only on a real cluster.
        const string yaml = """
            apiVersion: apps/v1
            kind: Deployment
            metadata:
              name: typo
            spec:
              replica: 2
            """;

        var error = Assert.ThrowsAny<Exception>(() => RenderedOverlay.Parse(yaml));
        Assert.Contains("replica", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Strict_parsing_refuses_a_kind_the_models_do_not_know()
    {
        const string yaml = """
            apiVersion: example.com/v1
            kind: Gadget
            metadata:
              name: unknown
            """;

        Assert.ThrowsAny<Exception>(() => RenderedOverlay.Parse(yaml));
    }

    [Fact]
    public void A_missing_kubectl_fails_with_a_message_saying_how_to_get_one()
    {
        var error = Assert.Throws<InvalidOperationException>(() => Kubectl.Locate(overridePath: null, pathVariable: "/nonexistent-folder"));

        Assert.Contains("No kubectl on PATH", error.Message, StringComparison.Ordinal);
        Assert.Contains("kubernetes-client", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Every_namespaced_object_is_in_a_namespace_the_overlay_creates(string overlay)
    {
        var rendered = RenderedOverlay.Of(overlay);
        var namespaces = rendered.All<V1Namespace>().Select(n => n.Metadata.Name).ToHashSet();

        Assert.Equal([Overlays.ControlPlaneNamespace, Overlays.WorkspaceNamespace], namespaces.Order());
        foreach (var o in rendered.Objects.Where(o => o is not V1Namespace))
        {
            Assert.True(namespaces.Contains(o.Metadata.NamespaceProperty ?? string.Empty),
                $"{o.Kind} {o.Metadata.Name} is in namespace '{o.Metadata.NamespaceProperty}', which the overlay does not create.");
        }
    }

    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Images_are_the_platforms_own_and_tagged_by_the_overlay(string overlay)
    {
        var rendered = RenderedOverlay.Of(overlay);
        var tags = new HashSet<string>();

        foreach (var workload in rendered.Workloads)
        {
            foreach (var container in workload.PodSpec.Containers.Concat(workload.PodSpec.InitContainers ?? []))
            {
                var image = container.Image;
                var colon = image.LastIndexOf(':');
                Assert.True(colon > image.LastIndexOf('/'), $"{workload}: image {image} has no tag (that is :latest).");
                var tag = image[(colon + 1)..];
                Assert.NotEqual("latest", tag);
                Assert.Equal($"clouddevenv/{workload.Component}", image[..colon]);
                tags.Add(tag);
            }
        }

        // One release: every process of an overlay runs the same build.
        Assert.Single(tags);
    }
}
