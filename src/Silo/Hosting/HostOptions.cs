using System.ComponentModel.DataAnnotations;

namespace CloudDevEnv.Silo.Hosting;

/// <summary>Where the local-mode process listens and keeps its data; section <c>Host</c>.</summary>
public sealed class LocalHostOptions
{
    public const string SectionName = "Host";

    /// <summary>The REST API, the web page and the dashboard.</summary>
    [Required, Url]
    public string ApiUrl { get; set; } = "http://127.0.0.1:5000";

    /// <summary>The workspace proxy: <c>&lt;id&gt;.localhost:5080</c> in a browser.</summary>
    [Required, Url]
    public string ProxyUrl { get; set; } = "http://127.0.0.1:5080";

    /// <summary>Grain state and reminders; <c>CDE_DATA_DIR</c>.</summary>
    [Required]
    public string DataDir { get; set; } = Path.Combine(
        Environment.GetFolderPath(Environment.SpecialFolder.LocalApplicationData, Environment.SpecialFolderOption.Create), "clouddevenv");

    [Range(1, 65535)]
    public int SiloPort { get; set; } = 11111;

    [Range(1, 65535)]
    public int GatewayPort { get; set; } = 30000;

    public int ProxyPort => new Uri(ProxyUrl).Port;
}
