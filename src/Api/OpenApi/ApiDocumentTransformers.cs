using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace CloudDevEnv.Api.OpenApi;

/// <summary>The published OpenAPI document as a client generator needs it: what the API is, how a caller proves who it
/// is (an API token as a bearer credential), the members every problem carries, and the answers any operation may give
/// besides its own (401 without a credential, 503 when the platform cannot answer).</summary>
internal static class ApiDocumentTransformers
{
    private const string Bearer = "bearer";
    private const string Problem = "application/problem+json";
    private const string VersionParameter = "ApiVersion";

    public static void Configure(OpenApiOptions options)
    {
        options.AddSchemaTransformer(AddProblemMembers);
        options.AddSchemaTransformer(TypeAsSent);
        options.AddDocumentTransformer(DescribeDocument);
    }

    /// <summary>Types as the API sends and requires them, for generators that take the schema literally: numbers are
    /// numbers (the web defaults would also read "30" for 30, which no client should send), enums are strings whose
    /// values never include null (a missing value is the property's null), and a required member is never null.</summary>
    private static Task TypeAsSent(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (schema.Type is { } type && (type.HasFlag(JsonSchemaType.Integer) || type.HasFlag(JsonSchemaType.Number)) && type.HasFlag(JsonSchemaType.String))
        {
            schema.Type = type & ~JsonSchemaType.String;
            schema.Pattern = null;
        }

        if (schema.Enum is { Count: > 0 } values)
        {
            schema.Type = JsonSchemaType.String;
            schema.Enum = [.. values.Where(v => v is not null)];
        }

        foreach (var name in schema.Required ?? new HashSet<string>())
        {
            if (schema.Properties is { } properties && properties.TryGetValue(name, out var found) && found is OpenApiSchema { Type: { } memberType } member)
            {
                member.Type = memberType & ~JsonSchemaType.Null;
            }
        }

        return Task.CompletedTask;
    }

    /// <summary>The extension members ApiProblems adds: which request field was wrong, and every field's errors.</summary>
    private static Task AddProblemMembers(OpenApiSchema schema, OpenApiSchemaTransformerContext context, CancellationToken cancellationToken)
    {
        if (context.JsonTypeInfo.Type == typeof(ProblemDetails) || context.JsonTypeInfo.Type == typeof(HttpValidationProblemDetails))
        {
            schema.Properties ??= new Dictionary<string, IOpenApiSchema>();
            schema.Properties["field"] = new OpenApiSchema
            {
                Type = JsonSchemaType.String | JsonSchemaType.Null,
                Description = "The request field (JSON name or header) that was not valid, for 400 problems.",
            };
            schema.Properties["errors"] = new OpenApiSchema
            {
                Type = JsonSchemaType.Object | JsonSchemaType.Null,
                Description = "Each invalid field's messages.",
                AdditionalProperties = new OpenApiSchema { Type = JsonSchemaType.Array, Items = new OpenApiSchema { Type = JsonSchemaType.String } },
            };
        }

        return Task.CompletedTask;
    }

    private static Task DescribeDocument(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "CloudDevEnv API",
            Version = "v1",
            Description = "Launch and manage cloud development workspaces. Scripts and tools authenticate with an API token "
                + "(create one with POST /api/tokens from a browser session) sent as `Authorization: Bearer <token>`. "
                + "Errors are RFC 9457 problem documents.",
            License = new OpenApiLicense { Name = "MIT", Identifier = "MIT" },
        };

        // The paths start with '/': a server URL ending in one would double it for a client that joins them.
        foreach (var server in document.Servers ?? [])
        {
            server.Url = server.Url?.TrimEnd('/');
        }

        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[Bearer] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = Bearer,
            Description = "An API token (cde_…). A browser session's cookie works too, with the X-CSRF-Token header on state-changing calls.",
        };
        document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(Bearer, document)] = [] }];
        document.Tags = new HashSet<OpenApiTag>
        {
            new() { Name = "Workspaces", Description = "Launch, list, start, stop and delete workspaces, and follow their events." },
            new() { Name = "Access", Description = "Reach a workspace: single-use sign-in links for its IDE, and which of its ports are public." },
            new() { Name = "Identity", Description = "Who is calling, and the API tokens scripts and tools use." },
            new() { Name = "Prebuilds", Description = "Prebuilt images registered for repositories, which launches start from." },
        };

        // Every operation takes the version header (GitHub's scheme); one definition, referenced by each.
        document.Components.Parameters ??= new Dictionary<string, IOpenApiParameter>();
        document.Components.Parameters[VersionParameter] = new OpenApiParameter
        {
            Name = ApiVersions.Header,
            In = ParameterLocation.Header,
            Required = false,
            Description = $"The API version the caller was written against (a date). Without it, the newest ({ApiVersions.Current}); "
                + "every answer names the version that served it in the same header.",
            Schema = new OpenApiSchema { Type = JsonSchemaType.String, Enum = [.. ApiVersions.Supported.Select(v => (System.Text.Json.Nodes.JsonNode)v)] },
        };

        foreach (var operation in (document.Paths ?? []).Values.SelectMany(p => p.Operations ?? []).Select(o => o.Value))
        {
            operation.Parameters ??= [];
            operation.Parameters.Add(new OpenApiParameterReference(VersionParameter, document));
            operation.Responses ??= new OpenApiResponses();
            AddProblem(document, operation.Responses, "401", "No valid credential: sign in, or send an API token.");
            AddProblem(document, operation.Responses, "503", "The platform could not answer or store the change in time; nothing was changed, try again.");
        }

        return Task.CompletedTask;
    }

    private static void AddProblem(OpenApiDocument document, OpenApiResponses responses, string status, string description)
    {
        if (responses.ContainsKey(status))
        {
            return;
        }

        responses[status] = new OpenApiResponse
        {
            Description = description,
            Content = new Dictionary<string, OpenApiMediaType>
            {
                [Problem] = new() { Schema = new OpenApiSchemaReference(nameof(ProblemDetails), document) },
            },
        };
    }
}
