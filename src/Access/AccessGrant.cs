using System.Globalization;

namespace CloudDevEnv.Access;

/// <summary>What a sign-in token or an access cookie says: this owner may reach this host of this workspace
/// until <see cref="ExpiresAt"/>.</summary>
/// <param name="Purpose"><see cref="TokenPurpose"/> or <see cref="CookiePurpose"/>.</param>
/// <param name="Label">The host's first label: <c>id</c> for the IDE, <c>port-id</c> for a port.</param>
/// <param name="Nonce">A random id: a token's single use is recorded under it.</param>
public sealed record AccessGrant(string Purpose, string Label, string Owner, DateTimeOffset ExpiresAt, string Nonce)
{
    public const string TokenPurpose = "cde-token-v1";
    public const string CookiePurpose = "cde-cookie-v1";

    // Owner names, labels and nonces cannot hold '|' (see OwnerName, WorkspaceId), so it separates fields safely.
    public string Serialize() =>
        string.Join('|', Purpose, Label, Owner, ExpiresAt.ToUnixTimeSeconds().ToString(CultureInfo.InvariantCulture), Nonce);

    public static AccessGrant? Parse(string? payload, string purpose)
    {
        if (payload is null)
        {
            return null;
        }

        var parts = payload.Split('|');
        if (parts.Length != 5 || parts[0] != purpose
            || !long.TryParse(parts[3], NumberStyles.None, CultureInfo.InvariantCulture, out var expires))
        {
            return null;
        }

        return new AccessGrant(parts[0], parts[1], parts[2], DateTimeOffset.FromUnixTimeSeconds(expires), parts[4]);
    }
}
