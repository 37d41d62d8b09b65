package dev.sluice.deid;

import com.fasterxml.jackson.core.JsonGenerator;
import java.io.IOException;
import org.hl7.fhir.r4.model.Base;
import org.hl7.fhir.r4.model.BooleanType;
import org.hl7.fhir.r4.model.DecimalType;
import org.hl7.fhir.r4.model.IntegerType;

/** How FHIR JSON writes a primitive value: as a JSON boolean, a JSON number or a string. Both writers use it. */
enum JsonPrimitive {
    BOOLEAN, NUMBER, STRING;

    static JsonPrimitive of(Base value) {
        if (value instanceof BooleanType) {
            return BOOLEAN;
        }
        // positiveInt and unsignedInt are IntegerTypes too
        return value instanceof IntegerType || value instanceof DecimalType ? NUMBER : STRING;
    }

    void write(JsonGenerator g, String text) throws IOException {
        switch (this) {
            case BOOLEAN -> g.writeBoolean(Boolean.parseBoolean(text));
            case NUMBER -> g.writeNumber(text);
            case STRING -> g.writeString(text);
        }
    }

    /** The suffix of a choice element's JSON name ({@code valueQuantity}) for a value of this FHIR type. */
    static String choiceSuffix(String fhirType) {
        String type = fhirType.equals("SimpleQuantity") || fhirType.equals("MoneyQuantity") ? "Quantity" : fhirType;
        return Character.toUpperCase(type.charAt(0)) + type.substring(1);
    }
}
