namespace CloudDevEnv.Access;

/// <summary>Mints sign-in links for the API (<c>POST /api/workspaces/{id}/open</c>). Needs only the shared
/// signing key, so a separate API process registers it with <c>AddWorkspaceAccessTokens</c>.</summary>
public interface IWorkspaceAccessTokens
{
    /// <summary><c>http://&lt;id&gt;.&lt;domain&gt;:&lt;port&gt;/_cde/signin?token=…</c>: a short-lived, single-use link
    /// that signs <paramref name="owner"/> in to the workspace's IDE host and lands on <c>/</c>.
    /// The caller must have checked that <paramref name="owner"/> owns the workspace; the proxy checks it again
    /// on every request against the grain's route.</summary>
    Uri CreateSignInUrl(string workspaceId, string owner);

    /// <summary>The same for the IDE host (<paramref name="port"/> null) or a port's host, landing on
    /// <paramref name="returnPath"/> (made safe with <see cref="ReturnPath"/>).</summary>
    Uri CreateSignInUrl(string workspaceId, int? port, string owner, string returnPath);
}
