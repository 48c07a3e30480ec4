using System.Globalization;
using System.Security.Claims;
using CloudDevEnv.Api.Identity;
using CloudDevEnv.Api.Pages;
using CloudDevEnv.Api.Problems;
using CloudDevEnv.Access;
using CloudDevEnv.Access.Pages;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Api.Workspaces;

/// <summary>How a user gets into a workspace: the browser flow from a workspace host, a one-time sign-in link for
/// scripts, and which ports anyone may reach.</summary>
public static partial class AccessEndpoints
{
    public sealed record OpenResponse(Uri Url);

    public sealed record PortVisibilityRequest(string? Visibility);

    public sealed record PortsResponse(string Id, IReadOnlyList<int> PublicPorts);

    /// <param name="Listening">Something in the workspace listens on it now.</param>
    /// <param name="Declared">devcontainer.json lists it in forwardPorts.</param>
    /// <param name="Visibility">"public" (anyone with the URL) or "private" (the owner only).</param>
    /// <param name="Url">Where it is reached through the proxy.</param>
    public sealed record PortResource(int Port, bool Listening, bool Declared, string Visibility, Uri Url);

    public static IEndpointRouteBuilder MapAccessEndpoints(this IEndpointRouteBuilder endpoints)
    {
        // Where a workspace host sends a browser that has no cookie for it (as Codespaces does): an anonymous browser
        // signs in first, the owner comes back with a one-time link, anyone else gets the "not yours" page.
        endpoints.MapGet(WorkspaceUrls.AuthorizePath, AuthorizeAsync).ExcludeFromDescription();

        var api = endpoints.MapGroup("/api/workspaces/{id}").WithTags("Access");
        api.MapPost("/open", OpenAsync)
            .WithName("OpenWorkspace")
            .WithSummary("A short-lived, single-use sign-in URL for the workspace's IDE (for scripts; browsers are signed in by visiting the workspace).")
            .Produces<OpenResponse>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict);
        api.MapGet("/ports", ListPortsAsync)
            .Produces<IReadOnlyList<PortResource>>()
            .WithName("ListPorts")
            .WithSummary("The workspace's ports: what listens now, what devcontainer.json forwards, and the public ones, each with its URL.")
            .WithDescription("Every port something listens on is reachable at its own host (`<port>-<id>.<domain>`), declared or not; "
                             + "`listening` is looked up when asked, and is false unless the workspace is Running.")
            .ProducesProblem(StatusCodes.Status404NotFound);
        api.MapPut("/ports/{port:int}", SetPortAsync)
            .Accepts<PortVisibilityRequest>("application/json")
            .Produces<PortsResponse>()
            .WithName("SetPortVisibility")
            .WithSummary("Make a port public (anyone with the URL) or private (the owner only, the default).")
            .ProducesProblem(StatusCodes.Status400BadRequest);
        return endpoints;
    }

    private static async Task<IResult> AuthorizeAsync(
        HttpContext context, ClaimsPrincipal user, IGrainFactory grains, IWorkspaceAccessTokens tokens, ProxyPages pages, ILoggerFactory loggers)
    {
        var query = context.Request.Query;
        string workspace = query["workspace"].ToString();
        int? port = null;
        if (query["port"] is { Count: 1 } portValue)
        {
            if (!int.TryParse(portValue, NumberStyles.None, CultureInfo.InvariantCulture, out var p) || p is < 1 or > 65535)
            {
                return new PageResult(new ProxyPage(StatusCodes.Status400BadRequest, "Not a workspace address", "The port in this link is not a port number."));
            }

            port = p;
        }

        // The owner only: an admin who must get in says so explicitly with POST /open.
        var status = await WorkspaceAccess.FindAsync(grains, workspace, user);
        if (status is null || !WorkspaceAccess.IsOwner(status, user))
        {
            LogRefused(loggers.CreateLogger(typeof(AccessEndpoints).FullName!), user.UserId(), workspace);
            return new PageResult(pages.NotOwner(WorkspaceId.IsValid(workspace) ? workspace : "?"));
        }

        // The one-time link must not leak through a Referer.
        context.Response.Headers["Referrer-Policy"] = "no-referrer";
        return new SeeOther(tokens.CreateSignInUrl(status.Id, port, status.Spec.Owner, ReturnPath.Sanitize(query["return"])).AbsoluteUri);
    }

    private static async Task<IResult> OpenAsync(string id, ClaimsPrincipal user, IGrainFactory grains, IWorkspaceAccessTokens tokens)
    {
        var status = await WorkspaceAccess.FindAsync(grains, id, user);
        if (status is null)
        {
            return ApiProblems.NotFound(id);
        }

        if (status.Desired == DesiredState.Deleted || status.Phase is WorkspacePhase.Deleting or WorkspacePhase.Deleted)
        {
            return ApiProblems.Problem(StatusCodes.Status409Conflict, "The workspace cannot do that now.", $"Workspace '{id}' is deleted.", "workspace-conflict");
        }

        // The link grants the owner's access to the IDE host: the proxy checks it against the workspace's owner.
        return TypedResults.Ok(new OpenResponse(tokens.CreateSignInUrl(id, status.Spec.Owner)));
    }

    private static async Task<IResult> ListPortsAsync(string id, ClaimsPrincipal user, IGrainFactory grains, WorkspaceUrls urls)
    {
        if (await WorkspaceAccess.FindAsync(grains, id, user) is null)
        {
            return ApiProblems.NotFound(id);
        }

        var ports = await grains.GetGrain<IWorkspaceGrain>(id).GetPortsAsync();
        return TypedResults.Ok(ports.Select(p => new PortResource(p.Port, p.Listening, p.Declared, p.Public ? "public" : "private", urls.GetWorkspaceUrl(id, p.Port))));
    }

    private static async Task<IResult> SetPortAsync(
        string id, int port, HttpRequest request, ClaimsPrincipal user, IGrainFactory grains,
        IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions> json, CancellationToken cancellationToken)
    {
        if (await WorkspaceAccess.FindAsync(grains, id, user) is null)
        {
            return ApiProblems.NotFound(id);
        }

        var (body, problem) = await RequestBody.ReadAsync<PortVisibilityRequest>(request, ApiJson.Strict(json.Value.SerializerOptions), cancellationToken);
        if (problem is not null)
        {
            return problem;
        }

        bool isPublic;
        switch (body!.Visibility)
        {
            case "public":
                isPublic = true;
                break;
            case "private":
                isPublic = false;
                break;
            default:
                return ApiProblems.InvalidField("visibility", "visibility must be \"public\" or \"private\".");
        }

        var route = await grains.GetGrain<IWorkspaceGrain>(id).SetPortVisibilityAsync(port, isPublic, user.UserId());
        return TypedResults.Ok(new PortsResponse(id, [.. route.PublicPorts.Order()]));
    }

    private sealed class PageResult(ProxyPage page) : IResult
    {
        public Task ExecuteAsync(HttpContext context) => ProxyPageWriter.WriteAsync(context, page);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Refused to sign {User} in to workspace {WorkspaceId}: not the owner, or no such workspace")]
    private static partial void LogRefused(ILogger logger, string user, string workspaceId);
}
