using Orleans.Serialization;

namespace CloudDevEnv.Grains;

/// <summary>The one way a grain changes its persisted state for a command: applied, written, and undone when storage
/// refuses the write, so that a refused command changes nothing (the API answers 503 and the grain is as it was).</summary>
internal static class StateChange
{
    /// <param name="change">Changes the state; returns false to decline, before changing anything (nothing is written).</param>
    /// <param name="keep">On a rollback, carries over from the abandoned state to the restored one what must outlive it.</param>
    /// <returns>False when the change declined.</returns>
    public static async Task<bool> ChangeAsync<T>(
        this IPersistentState<T> state, DeepCopier<T> copier, Func<T, bool> change, Action<T, T>? keep = null)
    {
        var before = copier.Copy(state.State)!;
        try
        {
            if (!change(state.State))
            {
                return false;
            }

            await state.WriteStateAsync();
            return true;
        }
        catch
        {
            var abandoned = state.State;
            state.State = before;
            keep?.Invoke(abandoned, before);
            throw;
        }
    }

    public static Task ChangeAsync<T>(this IPersistentState<T> state, DeepCopier<T> copier, Action<T> change) =>
        state.ChangeAsync(copier, s =>
        {
            change(s);
            return true;
        });
}
