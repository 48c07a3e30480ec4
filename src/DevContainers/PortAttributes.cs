using System.Text.Json;

namespace CloudDevEnv.DevContainers;

/// <summary>An entry of <c>portsAttributes</c> or <c>otherPortsAttributes</c>. Values are kept as
/// written (enums such as <c>onAutoForward</c> grow over time); unknown ones are kept as JSON.</summary>
/// <param name="Protocol"><c>http</c> or <c>https</c>; null means raw TCP (treated as http behind a web proxy).</param>
/// <param name="OnAutoForward"><c>notify</c>, <c>openBrowser</c>, <c>openBrowserOnce</c>, <c>openPreview</c>,
/// <c>silent</c> or <c>ignore</c>.</param>
public sealed record PortAttributes(
    string? Label,
    string? Protocol,
    string? OnAutoForward,
    bool? RequireLocalPort,
    bool? ElevateIfNeeded,
    IReadOnlyDictionary<string, JsonElement> AdditionalProperties);
