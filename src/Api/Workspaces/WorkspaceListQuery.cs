using System.Globalization;
using System.Text;
using CloudDevEnv.Api.Problems;
using Microsoft.AspNetCore.Http.HttpResults;

namespace CloudDevEnv.Api.Workspaces;

/// <summary>A page of a workspace listing, as GitHub's REST API pages: <c>limit</c> items (without it, all of them: what
/// clients written before paging expect) after the opaque <c>cursor</c>, filtered by <c>phase</c>, <c>repo</c> (the repository URL, exactly) and <c>q</c> (a piece of the
/// repository URL or the id); the next page's URL goes in a <c>Link: &lt;…&gt;; rel="next"</c> header.</summary>
internal sealed record WorkspaceListQuery(int? Limit, (DateTimeOffset CreatedAt, string Id)? After, WorkspacePhase? Phase, string? Repo, string? Q)
{
    public const int MaxLimit = 100;

    public static (WorkspaceListQuery? Query, ProblemHttpResult? Problem) Parse(int? limit, string? cursor, string? phase, string? repo, string? q)
    {
        if (limit is < 1 or > MaxLimit)
        {
            return (null, ApiProblems.InvalidField("limit", $"limit must be between 1 and {MaxLimit}."));
        }

        WorkspacePhase? wanted = null;
        if (!string.IsNullOrEmpty(phase))
        {
            if (!Enum.TryParse<WorkspacePhase>(phase, ignoreCase: true, out var parsed) || !Enum.IsDefined(parsed) || int.TryParse(phase, out _))
            {
                return (null, ApiProblems.InvalidField("phase", $"phase must be one of {string.Join(", ", Enum.GetNames<WorkspacePhase>())}."));
            }

            wanted = parsed;
        }

        (DateTimeOffset, string)? after = null;
        if (!string.IsNullOrEmpty(cursor))
        {
            if (Decode(cursor) is not { } position)
            {
                return (null, ApiProblems.InvalidField("cursor", "cursor is not one this API gave out; start again without it."));
            }

            after = position;
        }

        return (new WorkspaceListQuery(limit, after, wanted, repo, q), null);
    }

    /// <summary>The page, oldest first, and the cursor of the next one when there is more.</summary>
    public (IReadOnlyList<WorkspaceStatus> Page, string? Next) Apply(IEnumerable<WorkspaceStatus> statuses)
    {
        var matching = statuses
            .Where(s => Phase is null || s.Phase == Phase)
            .Where(s => string.IsNullOrEmpty(Repo) || string.Equals(s.Spec.RepoUrl, Repo, StringComparison.OrdinalIgnoreCase))
            .Where(s => string.IsNullOrEmpty(Q) || s.Spec.RepoUrl.Contains(Q, StringComparison.OrdinalIgnoreCase) || s.Id.Contains(Q, StringComparison.OrdinalIgnoreCase))
            .OrderBy(s => s.CreatedAt).ThenBy(s => s.Id, StringComparer.Ordinal)
            .Where(s => After is not { } after || s.CreatedAt > after.CreatedAt || (s.CreatedAt == after.CreatedAt && string.CompareOrdinal(s.Id, after.Id) > 0))
            .ToList();
        if (Limit is not { } limit || matching.Count <= limit)
        {
            return (matching, null);
        }

        var last = matching[limit - 1];
        return (matching.Take(limit).ToList(), Encode(last.CreatedAt, last.Id));
    }

    private static string Encode(DateTimeOffset createdAt, string id) =>
        Convert.ToBase64String(Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture, $"{createdAt.UtcTicks}:{id}")))
            .TrimEnd('=').Replace('+', '-').Replace('/', '_');

    private static (DateTimeOffset, string)? Decode(string cursor)
    {
        try
        {
            var padded = cursor.Replace('-', '+').Replace('_', '/');
            padded += new string('=', (4 - padded.Length % 4) % 4);
            var text = Encoding.UTF8.GetString(Convert.FromBase64String(padded));
            var colon = text.IndexOf(':', StringComparison.Ordinal);
            return colon > 0
                   && long.TryParse(text.AsSpan(0, colon), NumberStyles.None, CultureInfo.InvariantCulture, out var ticks)
                   && ticks is >= 0 && ticks <= DateTimeOffset.MaxValue.UtcTicks
                   && WorkspaceId.IsValid(text[(colon + 1)..])
                ? (new DateTimeOffset(ticks, TimeSpan.Zero), text[(colon + 1)..])
                : null;
        }
        catch (FormatException)
        {
            return null;
        }
    }
}
