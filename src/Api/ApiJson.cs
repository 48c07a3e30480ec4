using System.Text.Json;
using System.Text.Json.Serialization;

namespace CloudDevEnv.Api;

/// <summary>The API's JSON conventions: camelCase, enums by name.</summary>
public static class ApiJson
{
    public static void Configure(JsonSerializerOptions options)
    {
        options.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
        options.Converters.Add(new JsonStringEnumConverter());
    }

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<JsonSerializerOptions, JsonSerializerOptions> StrictCache = new();

    /// <summary>The same conventions, refusing unknown and mis-cased properties: used for request bodies.</summary>
    public static JsonSerializerOptions Strict(JsonSerializerOptions options) =>
        StrictCache.GetValue(options, o => new JsonSerializerOptions(o) { UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow, PropertyNameCaseInsensitive = false });
}
