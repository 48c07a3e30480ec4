using CloudDevEnv.Contracts.Workspaces;
using Microsoft.AspNetCore.Http;
using CloudDevEnv.Platform;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Access.Pages;

/// <summary>The texts of the proxy's pages, in one place.</summary>
public sealed class ProxyPages(IOptions<WorkspaceAccessOptions> options, IOptions<PublicAddressOptions> address)
{
    private readonly WorkspaceAccessOptions _options = options.Value;

    private (string, string)? Dashboard => ("Go to your workspaces", _options.PlatformUrl);

    public ProxyPage BadHost(string? host) => new(StatusCodes.Status400BadRequest, "Not a workspace address",
        $"'{host}' is not a workspace address. Workspaces are reached at <id>.{address.Value.Domain} or <port>-<id>.{address.Value.Domain}.");

    public ProxyPage NotFound(string workspaceId) => new(StatusCodes.Status404NotFound, "No such workspace",
        $"There is no workspace '{workspaceId}'. It may have been deleted.", Link: Dashboard);

    public ProxyPage ReservedPathNotFound() => new(StatusCodes.Status404NotFound, "Not found",
        "This address is reserved by the workspace proxy.");

    public ProxyPage SignInRequired(string workspaceId) => new(StatusCodes.Status401Unauthorized, "Sign in to open this workspace",
        $"Workspace '{workspaceId}' is private. Open it in a browser, or from your workspaces, which signs you in to it.", Link: Dashboard);

    /// <summary>Said alike of a workspace that is someone else's and of one that does not exist, so that the page
    /// tells a visitor nothing about other people's workspaces.</summary>
    public ProxyPage NotOwner(string workspaceId) => new(StatusCodes.Status403Forbidden, "Not your workspace",
        $"Workspace '{workspaceId}' belongs to someone else, or does not exist.", Link: Dashboard);

    public ProxyPage BadSignInLink() => new(StatusCodes.Status401Unauthorized, "This sign-in link is not valid",
        "The link has expired, was already used, or belongs to another workspace. Open the workspace again from the dashboard for a new one.",
        Link: Dashboard);

    public ProxyPage ForeignOrigin(string workspaceId) => new(StatusCodes.Status403Forbidden, "Connection refused",
        $"A page outside workspace '{workspaceId}' tried to open a WebSocket to it.");

    public ProxyPage Starting(WorkspaceRoute route) => new(StatusCodes.Status503ServiceUnavailable, "Starting your workspace…",
        $"Workspace '{route.Id}' is {Describe(route.Phase)}. This page reloads by itself until it is ready.",
        RefreshSeconds: _options.StartingPageRefreshSeconds);

    public ProxyPage NotRunning(WorkspaceRoute route) => new(StatusCodes.Status503ServiceUnavailable, "Workspace not running",
        $"Workspace '{route.Id}' is {Describe(route.Phase)}. Only its owner can start it.",
        RefreshSeconds: route.Desired == DesiredState.Running ? _options.StartingPageRefreshSeconds : null);

    public ProxyPage CannotStart(string workspaceId, string reason) => new(StatusCodes.Status409Conflict, "The workspace cannot start",
        $"Workspace '{workspaceId}' cannot start: {reason}", Link: Dashboard);

    public ProxyPage Failed(WorkspaceRoute route) => new(StatusCodes.Status503ServiceUnavailable, "The workspace failed",
        $"Workspace '{route.Id}' failed: {route.Reason ?? "no reason was given"}.", Link: Dashboard);

    /// <param name="port">Null: the IDE.</param>
    public ProxyPage UpstreamDown(string workspaceId, int? port) => port is { } p
        ? new(StatusCodes.Status502BadGateway, "Nothing answers on this port",
            $"Workspace '{workspaceId}' is running, but nothing answered on port {p}. If a program should be listening there, it may still be starting or may have stopped.")
        : new(StatusCodes.Status502BadGateway, "The IDE does not answer",
            $"Workspace '{workspaceId}' is running, but its IDE did not answer. The platform restarts an IDE that stays silent; try again in a moment.",
            RefreshSeconds: 5);

    public ProxyPage ServiceUnavailable(string workspaceId) => new(StatusCodes.Status503ServiceUnavailable, "Workspace service unavailable",
        $"The proxy could not reach the service that knows where workspace '{workspaceId}' runs. Try again in a moment.",
        RefreshSeconds: 5);

    public ProxyPage Unexpected() => new(StatusCodes.Status503ServiceUnavailable, "Something went wrong",
        "The workspace proxy could not handle this request. Try again in a moment.", RefreshSeconds: null);

    private static string Describe(WorkspacePhase phase) => phase switch
    {
        WorkspacePhase.Pending => "waiting to start",
        WorkspacePhase.Building => "building its image",
        WorkspacePhase.Creating => "creating its container",
        WorkspacePhase.Initializing => "cloning the repository and starting the IDE",
        WorkspacePhase.Running => "running",
        WorkspacePhase.Interrupted => "interrupted (its container stopped unexpectedly)",
        WorkspacePhase.Stopping => "stopping",
        WorkspacePhase.Stopped => "stopped",
        WorkspacePhase.Deleting => "being deleted",
        WorkspacePhase.Deleted => "deleted",
        WorkspacePhase.Failed => "failed",
        _ => phase.ToString().ToLowerInvariant(),
    };
}
