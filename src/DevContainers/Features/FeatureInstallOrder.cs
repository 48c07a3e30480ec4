namespace CloudDevEnv.DevContainers.Features;

/// <summary>The order features install in, as the spec's "installation order" defines it: rounds, each installing the
/// features whose <c>dependsOn</c> (hard) and <c>installsAfter</c> (soft: only among the features present) are already
/// installed; within a round, the features <c>overrideFeatureInstallOrder</c> names come first, in its order, one
/// priority at a time; the rest by their id, so that the same configuration always builds the same image.</summary>
public static class FeatureInstallOrder
{
    /// <param name="features">Every feature to install, <c>dependsOn</c>s included, by <see cref="FeatureReference.Key"/>.</param>
    /// <param name="overrideOrder">devcontainer.json's <c>overrideFeatureInstallOrder</c>, as written.</param>
    /// <exception cref="InvalidOperationException">The dependencies form a cycle, or one is missing.</exception>
    public static IReadOnlyList<T> Order<T>(IReadOnlyList<T> features, Func<T, FeatureReference> reference, Func<T, FeatureDefinition> definition, IReadOnlyList<string> overrideOrder)
    {
        var byKey = features.ToDictionary(f => reference(f).Key, StringComparer.Ordinal);
        var after = new Dictionary<string, HashSet<string>>(StringComparer.Ordinal);
        foreach (var feature in features)
        {
            var key = reference(feature).Key;
            var must = new HashSet<string>(StringComparer.Ordinal);
            foreach (var dependency in definition(feature).DependsOn.Keys)
            {
                var dependencyKey = FeatureReference.Parse(dependency).Key;
                if (!byKey.ContainsKey(dependencyKey))
                {
                    throw new InvalidOperationException($"the feature {reference(feature).Written} depends on {dependency}, which is not among the features to install");
                }

                must.Add(dependencyKey);
            }

            foreach (var soft in definition(feature).InstallsAfter)
            {
                if (TryKey(soft) is { } softKey && byKey.ContainsKey(softKey) && softKey != key)
                {
                    must.Add(softKey);
                }
            }

            after[key] = must;
        }

        var priority = new Dictionary<string, int>(StringComparer.Ordinal);
        for (var i = 0; i < overrideOrder.Count; i++)
        {
            if (TryKey(overrideOrder[i]) is { } key && byKey.ContainsKey(key))
            {
                priority.TryAdd(key, overrideOrder.Count - i);
            }
        }

        var installed = new HashSet<string>(StringComparer.Ordinal);
        var order = new List<T>();
        while (installed.Count < features.Count)
        {
            var ready = byKey.Keys.Where(k => !installed.Contains(k) && after[k].All(installed.Contains)).ToList();
            if (ready.Count == 0)
            {
                var stuck = string.Join(", ", byKey.Keys.Where(k => !installed.Contains(k)).Order(StringComparer.Ordinal));
                throw new InvalidOperationException($"the features {stuck} depend on each other in a cycle (dependsOn, installsAfter)");
            }

            var top = ready.Max(k => priority.GetValueOrDefault(k));
            var round = (top > 0 ? ready.Where(k => priority.GetValueOrDefault(k) == top) : ready)
                .OrderBy(k => reference(byKey[k]).ShortId, StringComparer.Ordinal)
                .ThenBy(k => k, StringComparer.Ordinal)
                .ToList();
            foreach (var key in round)
            {
                installed.Add(key);
                order.Add(byKey[key]);
            }
        }

        return order;
    }

    private static string? TryKey(string written)
    {
        try
        {
            return FeatureReference.Parse(written).Key;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
