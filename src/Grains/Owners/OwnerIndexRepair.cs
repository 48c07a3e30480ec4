namespace CloudDevEnv.Grains.Owners;

/// <summary>Repairs an owner's index from the workspaces' own state, which is the truth: a crash or a failed write between
/// the two can leave an id without a workspace (a "ghost"), or a slot held for a workspace that no longer wants to run.
/// Called from workspace grains and the API, never from the owner grain, which calls no workspace (no deadlock).</summary>
public static class OwnerIndexRepair
{
    /// <summary>Frees the slots of the owner's workspaces that no longer want one, and forgets ids without a workspace.</summary>
    /// <returns>True when a slot was freed.</returns>
    public static async Task<bool> ReleaseStaleSlotsAsync(IGrainFactory grains, IOwnerGrain owner, string exceptId)
    {
        var freed = false;
        foreach (var id in await owner.RunSlotsAsync())
        {
            if (id == exceptId)
            {
                continue;
            }

            WorkspaceStatus status;
            try
            {
                status = await grains.GetGrain<IWorkspaceGrain>(id).GetStatusAsync();
            }
            catch (WorkspaceRejectedException e) when (e.Kind == WorkspaceRejection.NotFound)
            {
                await owner.RemoveAsync(id);
                freed = true;
                continue;
            }

            if (status.Desired != DesiredState.Running || status.Phase == WorkspacePhase.Failed)
            {
                await owner.ReleaseRunSlotAsync(id);
                freed = true;
            }
        }

        return freed;
    }
}
