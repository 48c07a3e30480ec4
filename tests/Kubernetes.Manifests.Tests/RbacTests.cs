namespace CloudDevEnv.Kubernetes.Manifests.Tests;

/// <summary>The Roles grant exactly the calls k8s/base/runtime-api-calls.json lists: no more (least privilege), no
/// less (the runtime would fail with a 403 only on a real cluster).</summary>
public sealed class RbacTests
{
    private static readonly RuntimeApiCalls Calls = RuntimeApiCalls.Load();

    public static TheoryData<string, string> OverlaysAndCallers => new()
    {
        { Overlays.Dev, nameof(RuntimeApiCalls.WorkspaceRuntime) },
        { Overlays.Dev, nameof(RuntimeApiCalls.OrleansHosting) },
        { Overlays.Prod, nameof(RuntimeApiCalls.WorkspaceRuntime) },
        { Overlays.Prod, nameof(RuntimeApiCalls.OrleansHosting) },
    };

    [Theory]
    [MemberData(nameof(OverlaysAndCallers))]
    public void Each_role_grants_exactly_its_callers_listed_calls(string overlay, string callerName)
    {
        var caller = Caller(callerName);
        var role = RenderedOverlay.Of(overlay).All<V1Role>()
            .SingleOrDefault(r => r.Metadata.Name == caller.Role && r.Metadata.NamespaceProperty == caller.Namespace);
        Assert.True(role is not null, $"No Role {caller.Namespace}/{caller.Role} for {callerName}.");

        var granted = Granted(role!);
        var missing = caller.Permissions.Except(granted).ToList();
        var extra = granted.Except(caller.Permissions).ToList();
        Assert.True(missing.Count == 0, $"Role {caller.Role} lacks {string.Join(", ", missing)}, which {callerName} calls.");
        Assert.True(extra.Count == 0, $"Role {caller.Role} grants {string.Join(", ", extra)}, which {callerName} never calls.");
    }

    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void No_rule_uses_wildcards_or_resource_names_that_would_widen_it_unseen(string overlay)
    {
        foreach (var role in RenderedOverlay.Of(overlay).All<V1Role>())
        {
            foreach (var rule in role.Rules)
            {
                Assert.DoesNotContain("*", rule.ApiGroups ?? []);
                Assert.DoesNotContain("*", rule.Resources ?? []);
                Assert.DoesNotContain("*", rule.Verbs);
                Assert.True(rule.Resources is { Count: > 0 }, $"Role {role.Metadata.Name} has a rule without resources.");
                Assert.True(rule.NonResourceURLs is null or { Count: 0 }, $"Role {role.Metadata.Name} names URLs.");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Nothing_is_cluster_scoped_and_every_role_is_listed(string overlay)
    {
        var rendered = RenderedOverlay.Of(overlay);

        Assert.Empty(rendered.All<V1ClusterRole>());
        Assert.Empty(rendered.All<V1ClusterRoleBinding>());
        var listed = new[] { Calls.WorkspaceRuntime, Calls.OrleansHosting }.Select(c => $"{c.Namespace}/{c.Role}").Order();
        Assert.Equal(listed, rendered.All<V1Role>().Select(r => $"{r.Metadata.NamespaceProperty}/{r.Metadata.Name}").Order());
    }

    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void Each_role_is_bound_to_its_callers_account_only(string overlay)
    {
        var rendered = RenderedOverlay.Of(overlay);

        foreach (var binding in rendered.All<V1RoleBinding>())
        {
            Assert.Equal("Role", binding.RoleRef.Kind);
            var caller = new[] { Calls.WorkspaceRuntime, Calls.OrleansHosting }
                .SingleOrDefault(c => c.Role == binding.RoleRef.Name && c.Namespace == binding.Metadata.NamespaceProperty);
            Assert.True(caller is not null, $"RoleBinding {binding.Metadata.Name} binds {binding.RoleRef.Name}, which no listed caller uses.");
            var subject = Assert.Single(binding.Subjects);
            Assert.Equal("ServiceAccount", subject.Kind);
            Assert.Equal(caller!.ServiceAccount, $"{subject.NamespaceProperty}/{subject.Name}");
            Assert.Contains(rendered.All<V1ServiceAccount>(), a => $"{a.Metadata.NamespaceProperty}/{a.Metadata.Name}" == caller.ServiceAccount);
        }

        foreach (var caller in new[] { Calls.WorkspaceRuntime, Calls.OrleansHosting })
        {
            Assert.Contains(rendered.All<V1RoleBinding>(), b => b.RoleRef.Name == caller.Role && b.Metadata.NamespaceProperty == caller.Namespace);
        }
    }

    [Theory]
    [MemberData(nameof(Overlays.All), MemberType = typeof(Overlays))]
    public void The_silos_run_as_the_account_the_calls_are_made_as(string overlay)
    {
        var silo = RenderedOverlay.Of(overlay).Component("silo");

        Assert.Equal(Calls.WorkspaceRuntime.ServiceAccount, $"{silo.Namespace}/{silo.PodSpec.ServiceAccountName}");
        Assert.Equal(Calls.OrleansHosting.ServiceAccount, $"{silo.Namespace}/{silo.PodSpec.ServiceAccountName}");
    }

    private static ApiCaller Caller(string name) => name switch
    {
        nameof(RuntimeApiCalls.WorkspaceRuntime) => Calls.WorkspaceRuntime,
        nameof(RuntimeApiCalls.OrleansHosting) => Calls.OrleansHosting,
        _ => throw new ArgumentOutOfRangeException(nameof(name), name, null),
    };

    private static HashSet<Permission> Granted(V1Role role) =>
    [
        .. role.Rules.SelectMany(rule =>
            from g in rule.ApiGroups ?? []
            from r in rule.Resources ?? []
            from v in rule.Verbs
            select new Permission(g, r, v)),
    ];
}
