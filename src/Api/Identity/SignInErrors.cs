namespace CloudDevEnv.Api.Identity;

/// <summary>Why a sign-in did not happen, as codes in the sign-in page's URL: the page shows a text of its own for
/// each, so that nothing a provider or a link says is ever shown as it came.</summary>
public static class SignInErrors
{
    public const string ProviderFailed = "provider-failed";
    public const string ProviderUnavailable = "provider-unavailable";
    public const string NoUserName = "no-user-name";
    public const string BadUserName = "bad-user-name";
    public const string UnknownProvider = "unknown-provider";

    public static string PageUrl(string error) => $"/signin?error={error}";

    public static string? Describe(string? error) => error switch
    {
        ProviderFailed => "The sign-in provider did not complete the sign-in (it refused it, or the link had expired). Try again.",
        ProviderUnavailable => "The sign-in provider could not be reached. Try again in a moment, or ask the operator.",
        NoUserName => "The sign-in provider did not say who you are (no user name was sent). Ask the operator to check the provider's settings.",
        BadUserName => "Your user name at the sign-in provider cannot be used here (letters, digits, '.', '_', '@' and '-' only, at most 64).",
        UnknownProvider => "There is no such sign-in provider here.",
        _ => null,
    };
}
