using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using RagPlatform.Sdk;

namespace RagPlatform.Core.Configuration;

public static class ValidatedOptionsExtensions
{
    /// <summary>
    /// Binds <typeparamref name="TOptions"/> to <paramref name="sectionPath"/> and validates it when the host starts
    /// with <typeparamref name="TValidator"/> (an <c>[OptionsValidator]</c>, which recurses into nested options),
    /// each failure naming its configuration key: a bad value stops start-up instead of surfacing on first use.
    /// </summary>
    public static OptionsBuilder<TOptions> AddValidatedOptions<TOptions, TValidator>(
        this IServiceCollection services, IConfiguration configuration, string sectionPath)
        where TOptions : class
        where TValidator : class, IValidateOptions<TOptions>, new()
    {
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<TOptions>>(
            new ConfigurationKeyValidator<TOptions>(sectionPath, new TValidator())));
        return services.AddOptions<TOptions>().Bind(configuration.GetSection(sectionPath)).ValidateOnStart();
    }
}
