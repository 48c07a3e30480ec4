namespace CloudDevEnv.KubernetesStandIn;

/// <summary>Equality-based label selectors as the API server takes them: <c>a=b</c>, <c>a==b</c>, <c>a!=b</c>, <c>a</c>, <c>!a</c>, comma-separated.</summary>
internal sealed class LabelSelector(IReadOnlyList<Func<IDictionary<string, string>, bool>> terms)
{
    public static LabelSelector Parse(string? selector)
    {
        var terms = new List<Func<IDictionary<string, string>, bool>>();
        foreach (var raw in (selector ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (raw.Contains("!="))
            {
                var (k, v) = Split(raw, "!=");
                terms.Add(l => !l.TryGetValue(k, out var x) || x != v);
            }
            else if (raw.Contains('='))
            {
                var (k, v) = Split(raw, raw.Contains("==") ? "==" : "=");
                terms.Add(l => l.TryGetValue(k, out var x) && x == v);
            }
            else if (raw.StartsWith('!'))
            {
                var k = raw[1..];
                terms.Add(l => !l.ContainsKey(k));
            }
            else
            {
                terms.Add(l => l.ContainsKey(raw));
            }
        }

        return new LabelSelector(terms);
    }

    public bool Matches(IDictionary<string, string>? labels) => terms.All(t => t(labels ?? new Dictionary<string, string>()));

    private static (string Key, string Value) Split(string term, string op)
    {
        var i = term.IndexOf(op, StringComparison.Ordinal);
        return (term[..i].Trim(), term[(i + op.Length)..].Trim());
    }
}
