namespace CloudDevEnv.Access.Pages;

/// <summary>A page the proxy answers with instead of the workspace's response.</summary>
/// <param name="RefreshSeconds">When set, the page reloads itself (the "starting" page).</param>
/// <param name="Link">An optional (text, URL) link, e.g. back to the dashboard.</param>
public sealed record ProxyPage(
    int StatusCode,
    string Title,
    string Message,
    int? RefreshSeconds = null,
    (string Text, string Url)? Link = null);
