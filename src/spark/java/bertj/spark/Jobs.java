package bertj.spark;

import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

import java.util.Arrays;
import java.util.stream.Collectors;

/** Checks of an input's schema that the jobs share, made on the driver before anything runs. */
final class Jobs {
    private Jobs() {
    }

    /** A string column of that name, or an error naming the columns there are and the option that picks another. */
    static void requireString(StructType schema, String column, String what, String option) {
        StructField f = Arrays.stream(schema.fields()).filter(x -> x.name().equals(column)).findFirst().orElse(null);
        if (f == null) {
            throw new IllegalArgumentException("the input has no column '" + column + "' for the " + what + " (its columns: "
                    + Arrays.stream(schema.fieldNames()).collect(Collectors.joining(", ")) + "); choose one with " + option);
        }
        if (!f.dataType().equals(DataTypes.StringType)) {
            throw new IllegalArgumentException("column '" + column + "' is " + f.dataType().simpleString() + ", not a string; the "
                    + what + " must be text");
        }
    }

    /** None of the names is an input column already (the job adds them). */
    static void requireFree(StructType schema, String... added) {
        for (String a : added) {
            if (Arrays.asList(schema.fieldNames()).contains(a)) {
                throw new IllegalArgumentException("the input already has a column '" + a + "', which the job adds; rename or drop it first");
            }
        }
    }
}
