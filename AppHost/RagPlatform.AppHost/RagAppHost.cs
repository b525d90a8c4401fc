using System.ComponentModel.DataAnnotations;
using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using RagPlatform.AppHost.Infrastructure;

namespace RagPlatform.AppHost;

public static class RagAppHost
{
    /// <summary>The <c>RagPlatform</c> section, validated: a wrong value stops the AppHost with the key named.</summary>
    public static RagAppHostOptions ReadOptions(IDistributedApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(RagAppHostOptions.SectionName);
        var options = section.Get<RagAppHostOptions>() ?? new RagAppHostOptions();
        // Every setting under ServiceSettings, at any depth (the binder would keep only the first level).
        options.ServiceSettings = section.GetSection(nameof(RagAppHostOptions.ServiceSettings)).AsEnumerable(makePathsRelative: true)
            .Where(setting => setting.Value is not null)
            .ToDictionary(setting => setting.Key, setting => setting.Value, StringComparer.OrdinalIgnoreCase);
        var problems = new List<ValidationResult>();
        if (!Validator.TryValidateObject(options, new ValidationContext(options), problems, validateAllProperties: true))
        {
            throw new DistributedApplicationException(string.Join("; ", problems.Select(p =>
                $"{RagAppHostOptions.SectionName}:{string.Join(",", p.MemberNames)}: {p.ErrorMessage}")));
        }

        return options;
    }

    /// <summary>The servers in the form the options and the machine call for.</summary>
    public static RagInfrastructure AddRagInfrastructure(this IDistributedApplicationBuilder builder, RagAppHostOptions options)
    {
        var secrets = InfrastructureSecrets.Add(builder);
        var mode = options.Infrastructure switch
        {
            // What is published is deployed, and a deployment runs containers.
            _ when builder.ExecutionContext.IsPublishMode => InfrastructureMode.Containers,
            InfrastructureMode.Auto => ContainerRuntimeAnswers() ? InfrastructureMode.Containers : InfrastructureMode.Local,
            var chosen => chosen,
        };
        var vectorBackend = string.IsNullOrWhiteSpace(options.VectorBackend)
            ? mode == InfrastructureMode.Containers ? "qdrant" : "embedded"
            : options.VectorBackend.Trim();
        if (mode == InfrastructureMode.Local && string.Equals(vectorBackend, "qdrant", StringComparison.OrdinalIgnoreCase))
        {
            throw new DistributedApplicationException(
                "RagPlatform:VectorBackend=qdrant needs a Qdrant server, which only the Containers infrastructure runs; " +
                "on Local infrastructure choose embedded or faiss (or leave it empty).");
        }

        return mode == InfrastructureMode.Containers
            ? builder.AddContainerInfrastructure(vectorBackend, secrets)
            : builder.AddLocalInfrastructure(vectorBackend, secrets, StateDirectory(builder, options));
    }

    private static string StateDirectory(IDistributedApplicationBuilder builder, RagAppHostOptions options) =>
        Path.GetFullPath(string.IsNullOrWhiteSpace(options.StateDirectory)
            ? Path.Combine(builder.AppHostDirectory, "..", "..", "artifacts", "apphost")
            : Path.Combine(builder.AppHostDirectory, options.StateDirectory));

    /// <summary>Whether the container runtime Aspire would use (ASPIRE_CONTAINER_RUNTIME, else docker) has a server that answers.</summary>
    private static bool ContainerRuntimeAnswers()
    {
        var runtime = Environment.GetEnvironmentVariable("ASPIRE_CONTAINER_RUNTIME") is { Length: > 0 } named ? named : "docker";
        try
        {
            using var process = Process.Start(new ProcessStartInfo(runtime, ["info", "--format", "{{.ServerVersion}}"])
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            });
            if (process is null)
            {
                return false;
            }

            if (!process.WaitForExit(TimeSpan.FromSeconds(10)))
            {
                process.Kill(entireProcessTree: true);
                return false;
            }

            return process.ExitCode == 0 && process.StandardOutput.ReadToEnd().Trim().Length > 0;
        }
        catch (System.ComponentModel.Win32Exception)
        {
            // No such program.
            return false;
        }
    }
}
