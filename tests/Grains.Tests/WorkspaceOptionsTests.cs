using CloudDevEnv.Grains.Workspaces;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace CloudDevEnv.Grains.Tests;

/// <summary>Options an operator gets wrong stop the host at start-up with the key named, not at the first workspace.</summary>
public sealed class WorkspaceOptionsTests
{
    private static WorkspaceOptions Bind(Dictionary<string, string?> settings)
    {
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        using var provider = new ServiceCollection().AddLogging().AddWorkspaceGrains(configuration).BuildServiceProvider();
        return provider.GetRequiredService<IOptions<WorkspaceOptions>>().Value;
    }

    [Fact]
    public void A_deadline_of_zero_is_refused_with_its_key()
    {
        var error = Assert.Throws<OptionsValidationException>(() => Bind(new() { ["Workspaces:Deadlines:Initializing"] = "00:00:00" }));
        Assert.Contains("Workspaces:Deadlines", error.Message);
        Assert.Contains("Initializing", error.Message);
    }

    [Fact]
    public void Deadlines_and_the_reminder_period_bind_from_configuration()
    {
        var options = Bind(new() { ["Workspaces:Deadlines:Building"] = "01:00:00", ["Workspaces:ReminderPeriod"] = "00:02:00" });
        Assert.Equal(TimeSpan.FromHours(1), options.Deadlines.For(WorkspacePhase.Building));
        Assert.Equal(TimeSpan.FromMinutes(2), options.ReminderPeriod);
        Assert.Null(options.Deadlines.For(WorkspacePhase.Deleting));
    }
}
