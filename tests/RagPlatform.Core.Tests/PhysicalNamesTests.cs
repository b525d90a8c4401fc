using RagPlatform.Core.Collections;
using RagPlatform.Core.Errors;
using RagPlatform.Core.Storage;

namespace RagPlatform.Core.Tests;

public sealed class PhysicalNamesTests
{
    [Fact]
    public void Version_1_keeps_the_collection_name_and_later_versions_get_a_suffix()
    {
        Assert.Equal("docs", PhysicalNames.Of("docs", 1));
        Assert.Equal("docs__v2", PhysicalNames.Of("docs", 2));
        Assert.Equal("docs__v12", PhysicalNames.Of("docs", 12));
    }

    [Fact]
    public void A_long_name_is_shortened_with_a_hash_so_every_version_stays_a_valid_distinct_collection_name()
    {
        var a = new string('a', 63);
        var b = new string('a', 62) + "b";

        var nameA = PhysicalNames.Of(a, 2);
        var nameB = PhysicalNames.Of(b, 2);

        Assert.Equal(63, nameA.Length);
        Assert.EndsWith("__v2", nameA, StringComparison.Ordinal);
        Assert.NotEqual(nameA, nameB);
        CollectionNames.Validate(nameA);
        Assert.Equal(nameA, PhysicalNames.Of(a, 2));
    }

    [Fact]
    public void New_collection_names_that_look_like_a_version_are_refused()
    {
        Assert.Throws<RequestValidationException>(() => CollectionNames.ValidateNew("docs__v2"));
        CollectionNames.ValidateNew("docs__v");
        CollectionNames.ValidateNew("docs_v2");
        CollectionNames.Validate("docs__v2");
    }
}
