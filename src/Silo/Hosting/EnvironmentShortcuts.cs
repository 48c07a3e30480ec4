namespace CloudDevEnv.Silo.Hosting;

/// <summary>The few environment variables a newcomer sets by hand, mapped onto configuration keys.
/// Everything else is configured the ASP.NET Core way (appsettings.json, <c>Section__Key</c> variables).</summary>
public static class EnvironmentShortcuts
{
    public static IDictionary<string, string?> Read(Func<string, string?> getVariable)
    {
        var settings = new Dictionary<string, string?>();
        Map("CDE_DATA_DIR", "Host:DataDir");
        Map("CDE_API_URL", "Host:ApiUrl");
        Map("CDE_PROXY_URL", "Host:ProxyUrl");
        if (getVariable("CDE_LOCAL_REPO_ROOTS") is { Length: > 0 } roots)
        {
            var folders = roots.Split(':', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            for (var i = 0; i < folders.Length; i++)
            {
                settings[$"Workspaces:LocalRepoRoots:{i}"] = folders[i];
            }
        }

        if (getVariable("CDE_ADMINS") is { Length: > 0 } admins)
        {
            var names = admins.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            for (var i = 0; i < names.Length; i++)
            {
                settings[$"Auth:Admins:{i}"] = names[i];
            }
        }

        return settings;

        void Map(string variable, string key)
        {
            if (getVariable(variable) is { Length: > 0 } value)
            {
                settings[key] = value;
            }
        }
    }
}
