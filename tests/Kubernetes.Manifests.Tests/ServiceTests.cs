namespace CloudDevEnv.Kubernetes.Manifests.Tests;

public sealed class ServiceTests
{
    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Each_service_selects_the_pods_of_exactly_one_workload(string overlay)
    {
        var rendered = RenderedOverlay.Of(overlay);

        foreach (var service in rendered.All<V1Service>())
        {
            var selected = rendered.Workloads
                .Where(w => w.Namespace == service.Metadata.NamespaceProperty && LabelSelectors.Matches(service.Spec.Selector, w.PodLabels))
                .ToList();
            Assert.True(selected.Count == 1,
                $"Service {service.Metadata.Name} selects {selected.Count} workloads ({string.Join(", ", selected)}); it must select exactly one.");
        }
    }

    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Each_service_port_targets_a_port_its_pods_declare(string overlay)
    {
        var rendered = RenderedOverlay.Of(overlay);

        foreach (var service in rendered.All<V1Service>())
        {
            var workload = rendered.Workloads.Single(w =>
                w.Namespace == service.Metadata.NamespaceProperty && LabelSelectors.Matches(service.Spec.Selector, w.PodLabels));
            var ports = workload.PodSpec.Containers.SelectMany(c => c.Ports ?? []).ToList();
            foreach (var port in service.Spec.Ports)
            {
                var target = port.TargetPort?.Value ?? port.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
                Assert.True(ports.Any(p => p.Name == target || p.ContainerPort.ToString(System.Globalization.CultureInfo.InvariantCulture) == target),
                    $"Service {service.Metadata.Name} port {port.Name} targets {target}, which {workload} does not declare.");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Every_workload_has_a_service(string overlay)
    {
        var rendered = RenderedOverlay.Of(overlay);

        foreach (var workload in rendered.Workloads)
        {
            Assert.Contains(rendered.All<V1Service>(), s =>
                s.Metadata.NamespaceProperty == workload.Namespace && LabelSelectors.Matches(s.Spec.Selector, workload.PodLabels));
        }
    }

    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Silos_are_reached_by_their_own_addresses_through_a_headless_service(string overlay)
    {
        // Orleans' guidance: never advertise a Service's virtual IP for a silo.
        var silo = RenderedOverlay.Of(overlay).Single<V1Service>("clouddevenv-silo");

        Assert.Equal("None", silo.Spec.ClusterIP);
    }
}
