using System.Security.Claims;
using CloudDevEnv.Api.Identity;

namespace CloudDevEnv.Api.Workspaces;

/// <summary>Who may see a workspace: its owner and the admins. To anyone else it does not exist: the same 404 as an
/// id nobody has, so that ids cannot be probed.</summary>
internal static class WorkspaceAccess
{
    public static async Task<WorkspaceStatus?> FindAsync(IGrainFactory grains, string id, ClaimsPrincipal user)
    {
        if (!WorkspaceId.IsValid(id))
        {
            return null;
        }

        WorkspaceStatus status;
        try
        {
            status = await grains.GetGrain<IWorkspaceGrain>(id).GetStatusAsync();
        }
        catch (WorkspaceRejectedException e) when (e.Kind == WorkspaceRejection.NotFound)
        {
            return null;
        }

        return IsOwner(status, user) || user.IsAdmin() ? status : null;
    }

    public static bool IsOwner(WorkspaceStatus status, ClaimsPrincipal user) =>
        string.Equals(status.Spec.Owner, user.UserId(), StringComparison.Ordinal);
}
