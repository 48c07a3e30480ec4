namespace CloudDevEnv.Kubernetes.Manifests.Tests;

public sealed class DisruptionBudgetTests
{
    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Each_budget_selects_exactly_one_workload_and_every_workload_has_one(string overlay)
    {
        var rendered = RenderedOverlay.Of(overlay);
        var budgets = rendered.All<V1PodDisruptionBudget>().ToList();

        foreach (var budget in budgets)
        {
            var selected = rendered.Workloads.Where(w =>
                w.Namespace == budget.Metadata.NamespaceProperty && LabelSelectors.Matches(budget.Spec.Selector, w.PodLabels)).ToList();
            Assert.True(selected.Count == 1, $"PodDisruptionBudget {budget.Metadata.Name} selects {selected.Count} workloads.");
            Assert.True(budget.Spec.MaxUnavailable is not null || budget.Spec.MinAvailable is not null,
                $"PodDisruptionBudget {budget.Metadata.Name} sets neither maxUnavailable nor minAvailable.");
        }

        foreach (var component in Overlays.Components)
        {
            var workload = rendered.Component(component);
            Assert.Contains(budgets, b => b.Metadata.NamespaceProperty == workload.Namespace && LabelSelectors.Matches(b.Spec.Selector, workload.PodLabels));
        }
    }

    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void A_budget_lets_a_node_be_drained(string overlay)
    {
        // minAvailable equal to the replicas (or maxUnavailable 0) blocks every voluntary eviction, so no node drains.
        var rendered = RenderedOverlay.Of(overlay);

        foreach (var budget in rendered.All<V1PodDisruptionBudget>())
        {
            var workload = rendered.Workloads.Single(w =>
                w.Namespace == budget.Metadata.NamespaceProperty && LabelSelectors.Matches(budget.Spec.Selector, w.PodLabels));
            if (budget.Spec.MaxUnavailable is { } max)
            {
                Assert.True(max.Value.EndsWith('%') || max.ToInt() >= 1, $"{budget.Metadata.Name}: maxUnavailable {max.Value} blocks every eviction.");
            }

            if (budget.Spec.MinAvailable is { } min && !min.Value.EndsWith('%'))
            {
                Assert.True(min.ToInt() < workload.Replicas, $"{budget.Metadata.Name}: minAvailable {min.Value} of {workload.Replicas} blocks every eviction.");
            }
        }
    }
}
